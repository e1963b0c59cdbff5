"""Monitoring of every task: models trained by the pipeline, logs in the serving format.

A multiclass model (scikit-learn's wine cultivars), a regression model (its
diabetes progression) and a binary one are trained and exported through the
real pipeline functions. Their prediction logs and feedback are written as
the server writes them (``proba:<class>`` columns, class names and numbers
as labels); monitoring reads the task, classes and threshold from the ONNX
contract and measures drift and performance with the task's own metrics,
checked here against scikit-learn computed independently.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from sklearn import datasets
from sklearn import metrics as skm

from mlops_gitops.monitoring.alerts import evaluate_rules
from mlops_gitops.monitoring.config import MonitoringConfig, MonitoringConfigError, for_task
from mlops_gitops.monitoring.health import score_health
from mlops_gitops.monitoring.logs import LogError, read_feedback, read_predictions
from mlops_gitops.monitoring.reference import metrics_of_test_set, with_model
from mlops_gitops.monitoring.window import Reference, monitor
from mlops_gitops.tasks import load_task
from mlops_gitops.tasks.clustering import ClusteringTask
from tests.helpers import gen_tree
from tests.helpers.monitoring import NOW, make_frame
from tests.helpers.task_pipeline import run_pipeline
from tests.tasks.test_task_pipeline import LABEL, _raw

START = NOW - timedelta(hours=1)
WINDOW = (NOW - timedelta(hours=24), NOW)
CONFIG = MonitoringConfig.model_validate({"performance": {"min_labels": 5}})

pytestmark = pytest.mark.slow


class Trained:
    """One model trained and exported by the pipeline, with its test set and reference."""

    def __init__(
        self,
        name: str,
        task: str,
        folder: Path,
        frame: pd.DataFrame | None = None,
        *,
        label: str | None = LABEL,
        sklearn: dict[str, object] | None = None,
    ):
        raw = _raw(name) if frame is None else frame
        settings = {"max_iter": 20} if sklearn is None else sklearn
        prepared, *_ = run_pipeline(raw, task, folder, label=label, sklearn=settings, name=name)
        self.model = folder / "model.onnx"
        self.test = pd.read_parquet(prepared.paths["test"])
        self.train = pd.read_parquet(prepared.paths["train"])
        self.evaluation = json.loads((folder / "evaluate.json").read_text())
        self.reference = with_model(
            Reference(
                model=name,
                version="v1",
                frame=self.train,
                label=label,
                test_metrics=metrics_of_test_set({"metrics/evaluate.json": self.evaluation}),
                source="train.parquet",
            ),
            self.model,
        )
        self.session = onnxruntime.InferenceSession(str(self.model))

    def log(self, folder: Path, rows: pd.DataFrame) -> pd.DataFrame:
        """Score ``rows`` with ONNX Runtime and write them as the server's prediction log."""
        feeds = {
            i.name: rows[i.name].to_numpy(np.float32).reshape(-1, 1)
            for i in self.session.get_inputs()
        }
        names = [o.name for o in self.session.get_outputs()]
        outputs = dict(zip(names, self.session.run(None, feeds), strict=True))
        # The task decides the outputs as serving does: prediction, score, proba:<class>.
        served = load_task(self.reference.task).served(
            outputs, classes=self.reference.classes, threshold=self.threshold
        )
        logged = pd.DataFrame(
            {
                "timestamp": pd.to_datetime(
                    [START + timedelta(seconds=i) for i in range(len(rows))], utc=True
                ),
                "request_id": [f"q{i}" for i in range(len(rows))],
                "model": self.reference.model,
                "version": "v1",
                **{name: rows[name].to_numpy() for name in feeds},
                "prediction": served.predictions,
                "score": served.scores,
                **served.columns,
            }
        )
        folder.mkdir(parents=True, exist_ok=True)
        logged.to_parquet(folder / f"part-{START:%Y%m%dT%H%M%S}-0.parquet", index=False)
        return logged

    @property
    def threshold(self) -> float:
        return 0.5 if self.reference.threshold is None else self.reference.threshold

    def monitor(self, folder: Path, rows: pd.DataFrame, labels: list[object] | None = None):
        """Log ``rows``, write ``labels`` as feedback and monitor the window."""
        logged = self.log(folder, rows)
        if labels is not None:
            write_labels(folder, logged["request_id"], labels)
        task = load_task(self.reference.task)
        feedback = read_feedback(folder, WINDOW[0], task=task, classes=self.reference.classes)
        predictions = read_predictions(folder, *WINDOW)
        return logged, monitor(self.reference, predictions, feedback, CONFIG, window=WINDOW)


def write_labels(folder: Path, ids: pd.Series, labels: list[object]) -> Path:
    """Write feedback as the server does: one JSON object per line, the label as sent."""
    lines = [
        json.dumps({"request_id": rid, "label": label, "timestamp": NOW.isoformat()})
        for rid, label in zip(ids, labels, strict=True)
    ]
    path = folder / f"feedback-{NOW:%Y-%m-%d}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return Trained("wine", "multiclass", tmp_path_factory.mktemp("wine"))


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return Trained("diabetes", "regression", tmp_path_factory.mktemp("diabetes"))


def test_multiclass_model_is_monitored_by_its_contract_and_metrics(wine: Trained, tmp_path):
    assert wine.reference.task == "multiclass"
    assert wine.reference.classes == ("class_0", "class_1", "class_2")
    labels = wine.test[LABEL].tolist()  # class names, as clients send them
    logged, result = wine.monitor(tmp_path / "same", wine.test, labels)
    perf = result.performance
    assert perf is not None and perf.labelled_rows == len(wine.test)
    assert perf.metrics["f1_macro"] == pytest.approx(
        skm.f1_score(labels, logged["prediction"], average="macro")
    )
    assert perf.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(labels, logged["prediction"])
    )
    # The live window is the test set itself: its metrics are the evaluation's.
    assert perf.drops["f1_macro"] == pytest.approx(0.0, abs=1e-9)
    assert result.indicators["performance.f1_macro_drop"] == pytest.approx(0.0, abs=1e-9)
    # The training rows as the live window: the same class distribution as the reference.
    _, same = wine.monitor(tmp_path / "train", wine.train)
    assert same.prediction is not None and same.prediction.compared_with == "predictions"
    assert same.prediction.chi2 == pytest.approx(0.0) and same.prediction.psi == pytest.approx(0.0)
    assert same.performance is not None and same.performance.labelled_rows == 0


def test_multiclass_class_shift_and_wrong_labels_fire_the_default_rules(wine: Trained, tmp_path):
    rows = wine.train[wine.train[LABEL] == "class_0"]  # only one cultivar arrives
    wrong = rows[LABEL].map({"class_0": "class_1"}).tolist()
    _, result = wine.monitor(tmp_path, rows, wrong)
    prediction = result.prediction
    assert prediction is not None
    assert prediction.chi2 is not None and prediction.chi2 > 20 and prediction.pvalue < 1e-3
    assert result.indicators["prediction.chi2"] == prediction.chi2
    assert result.indicators["prediction.psi"] > 0.25
    assert result.indicators["performance.f1_macro_drop"] > 0.5
    config = for_task(MonitoringConfig(), load_task("multiclass"))
    health = score_health(result.indicators, config.health)
    part = {p.name: p for p in health.parts}["performance.f1_macro_drop"]
    assert part.score == 0.0 and health.band != "healthy"
    fired = evaluate_rules(config.alerts, "wine", "v1", result.indicators)
    assert {f.rule.id for f in fired} == {"prediction-drift", "performance-drop"}


def test_regression_model_drift_and_performance_by_its_metrics(diabetes: Trained, tmp_path):
    assert diabetes.reference.task == "regression" and diabetes.reference.classes == ()
    _, same = diabetes.monitor(tmp_path / "same", diabetes.train)
    assert same.prediction is not None and same.prediction.ks == pytest.approx(0.0)
    assert same.prediction.psi == pytest.approx(0.0) and same.prediction.pvalue == 1.0
    high = diabetes.test[diabetes.test[LABEL] > diabetes.test[LABEL].median()]
    labels = [float(v) for v in high[LABEL]]
    logged, shifted = diabetes.monitor(tmp_path / "shifted", high, labels)
    prediction = shifted.prediction
    assert prediction is not None and prediction.compared_with == "predictions"
    assert prediction.ks is not None and prediction.ks > 0.3 and prediction.psi > 0.25
    perf = shifted.performance
    assert perf is not None
    assert perf.metrics["rmse"] == pytest.approx(
        np.sqrt(skm.mean_squared_error(labels, logged["score"]))
    )
    assert perf.metrics["mae"] == pytest.approx(skm.mean_absolute_error(labels, logged["score"]))
    assert perf.metrics["r2"] == pytest.approx(skm.r2_score(labels, logged["score"]))
    test_rmse = diabetes.evaluation["rmse"]
    rise = (perf.metrics["rmse"] - test_rmse) / test_rmse
    assert shifted.indicators["performance.rmse_rise"] == pytest.approx(rise)
    assert shifted.indicators["performance.rmse_drop"] == pytest.approx(
        perf.metrics["rmse"] - test_rmse
    )


def test_regression_default_rules_fire_on_a_rise_of_the_error(diabetes: Trained, tmp_path):
    rows = diabetes.test
    off = [float(v) + 150.0 for v in rows[LABEL]]  # labels far from every prediction
    _, result = diabetes.monitor(tmp_path, rows, off)
    assert result.indicators["performance.rmse_rise"] > 1.0
    config = for_task(MonitoringConfig(), load_task("regression"))
    assert "performance.rmse_rise" in {i.name for i in config.health.indicators}
    fired = evaluate_rules(config.alerts, "diabetes", "v1", result.indicators)
    assert {f.rule.id for f in fired} == {"performance-rise"}
    # The manifest's own rules win over the task's defaults.
    own = MonitoringConfig.model_validate({"alerts": []})
    assert for_task(own, load_task("regression")).alerts == []


def test_binary_monitoring_produces_the_brier_drop(tmp_path_factory: pytest.TempPathFactory):
    frame = make_frame(600, seed=3).rename(columns={"default": LABEL})
    frame.insert(0, "row_id", [f"B{i:04d}" for i in range(len(frame))])
    frame = frame.drop(columns=["region"])
    binary = Trained("credit", "binary", tmp_path_factory.mktemp("credit"), frame=frame)
    assert "brier" not in binary.evaluation  # the evaluation metrics file keeps its keys
    reference_brier = binary.reference.test_metrics["brier"]
    proba = binary.session.run(
        None, {n: binary.train[[n]].to_numpy(np.float32) for n in ("income", "age")}
    )[1][:, 1]
    assert reference_brier == pytest.approx(skm.brier_score_loss(binary.train[LABEL], proba))
    labels = [int(v) for v in binary.test[LABEL]]
    folder = tmp_path_factory.mktemp("credit-logs")
    config = CONFIG.model_copy(
        update={"performance": CONFIG.performance.model_copy(update={"metrics": ["brier", "f1"]})}
    )
    logged = binary.log(folder, binary.test)
    write_labels(folder, logged["request_id"], labels)
    result = monitor(
        binary.reference,
        read_predictions(folder, *WINDOW),
        read_feedback(folder, WINDOW[0]),
        config,
        window=WINDOW,
    )
    live = skm.brier_score_loss(labels, logged["score"])
    assert result.indicators["performance.brier"] == pytest.approx(live)
    assert result.indicators["performance.brier_drop"] == pytest.approx(live - reference_brier)
    assert result.indicators["performance.f1_drop"] == pytest.approx(
        binary.evaluation["f1"] - skm.f1_score(labels, logged["prediction"])
    )
    wrong = CONFIG.model_copy(
        update={"performance": CONFIG.performance.model_copy(update={"metrics": ["rmse"]})}
    )
    with pytest.raises(MonitoringConfigError, match=r"'rmse' is not a metric of task binary"):
        monitor(binary.reference, logged, read_feedback(folder, WINDOW[0]), wrong, window=WINDOW)


def test_feedback_outside_the_task_is_refused_in_one_line(
    wine: Trained, diabetes: Trained, tmp_path
):
    ids = pd.Series(["a", "b", "c"])
    write_labels(tmp_path, ids, ["class_0", "class_9", "class_1"])
    multiclass = load_task("multiclass")
    with pytest.raises(LogError, match=r"\.jsonl:2: label 'label' holds class_9, not among") as e:
        read_feedback(tmp_path, WINDOW[0], task=multiclass, classes=wine.reference.classes)
    assert "\n" not in str(e.value)
    write_labels(tmp_path, ids, [1.5, 2.0, "high"])
    with pytest.raises(LogError, match=r"\.jsonl:3: label 'label' must be numeric") as e:
        read_feedback(tmp_path, WINDOW[0], task=load_task("regression"))
    assert "\n" not in str(e.value)
    write_labels(tmp_path, ids, [0, 1, 2])
    with pytest.raises(LogError, match=r"\.jsonl:3: label 'label' must hold 0 and 1 only"):
        read_feedback(tmp_path, WINDOW[0])
    with pytest.raises(LogError, match=r"feedback does not apply to task clustering") as e:
        read_feedback(tmp_path, WINDOW[0], task=ClusteringTask())
    assert "\n" not in str(e.value)


def test_registered_version_is_monitored_by_its_artifacts_contract(wine: Trained, dvc_repo: Path):
    """resolve_reference takes the model artifact of the registration by hash and reads its task."""
    from mlops_gitops.digest import file_md5
    from mlops_gitops.monitoring.reference import resolve_reference
    from mlops_gitops.pipeline import cache_object_path
    from mlops_gitops.registry import register

    train = dvc_repo.parent / "train.parquet"
    wine.train.to_parquet(train, index=False)
    files = {"data/prepared/train.parquet": train, "models/model.onnx": wine.model}
    locked = [{"path": p, "md5": file_md5(f), "size": f.stat().st_size} for p, f in files.items()]
    lock = {
        "schema": "2.0",
        "stages": {
            "prepare": {"cmd": "python stages/prepare.py", "outs": locked[:1]},
            "train": {"cmd": "python stages/train.py", "deps": locked[:1], "outs": locked[1:]},
        },
    }
    stages = {
        "prepare": {"cmd": "python stages/prepare.py", "outs": ["data/prepared/train.parquet"]},
        "train": {
            "cmd": "python stages/train.py",
            "deps": ["data/prepared/train.parquet"],
            "outs": ["models/model.onnx"],
        },
    }
    artifacts = {"wine": {"path": "models/model.onnx", "type": "model"}}
    gen_tree(
        dvc_repo,
        {
            "dvc.yaml": json.dumps({"stages": stages, "artifacts": artifacts}),
            "dvc.lock": json.dumps(lock),
            "envs/environments.yaml": "environments:\n  prod: {}\n",
            "envs/prod.yaml": "models: {}\n",
        },
        commit="Train",
    )
    for source in files.values():
        target = cache_object_path(dvc_repo, file_md5(source))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    register(dvc_repo, "wine", version="v1.0.0", check_remote=False)
    reference = resolve_reference(dvc_repo, "wine", "v1.0.0", MonitoringConfig())
    assert reference.task == "multiclass" and reference.classes == wine.reference.classes
    assert reference.outputs is not None
    assert reference.outputs["prediction"].tolist() == wine.reference.outputs["prediction"].tolist()


def test_a_plugin_task_without_monitoring_settings_gets_the_generic_defaults():
    from mlops_gitops.tasks import watch_of
    from mlops_gitops.tasks.regression import RegressionTask

    class Forecast(RegressionTask):  # a plug-in that says nothing about monitoring
        name, monitoring = "forecast", None

    watch = watch_of(Forecast())
    assert watch.prediction == "scores" and watch.defaults == ("rmse",)
    assert "residual_mean" in {m.name for m in watch.metrics}
    config = for_task(MonitoringConfig(), Forecast())
    names = [i.name for i in config.health.indicators]
    assert "performance.rmse_drop" in names and "performance.accuracy_drop" not in names
    assert config.alerts == []
    assert for_task(MonitoringConfig(), load_task("binary")) == MonitoringConfig()


def _sklearn_frame(name: str) -> pd.DataFrame:
    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    frame.columns = [str(c).replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    return frame


def test_clustering_cluster_sizes_drift_and_no_performance(tmp_path_factory, tmp_path):
    iris = _sklearn_frame("iris")
    species = iris.pop(LABEL)
    kmeans = {"estimator": "kmeans", "n_clusters": 3}
    model = Trained("iris", "clustering", tmp_path_factory.mktemp("iris"), iris, label=None,
                    sklearn=kmeans)  # fmt: skip
    assert model.reference.task == "clustering" and model.reference.outputs is not None
    _, same = model.monitor(tmp_path / "same", model.train)
    assert same.prediction is not None and same.prediction.chi2 == pytest.approx(0.0)
    one = iris.loc[species == 0]  # one species only: one cluster gets every row
    _, shifted = model.monitor(tmp_path / "one", one)
    assert shifted.prediction is not None and shifted.prediction.chi2 > 20
    assert shifted.indicators["prediction.psi"] > 0.25 and shifted.performance is None
    config = for_task(MonitoringConfig(), load_task("clustering"))
    fired = evaluate_rules(config.alerts, "iris", "v1", shifted.indicators)
    assert [f.rule.id for f in fired] == ["prediction-drift"]
    assert not any(i.name.startswith("performance.") for i in config.health.indicators)


def test_anomaly_score_drift_and_ranking_metrics_from_feedback(tmp_path_factory, tmp_path):
    cancer = _sklearn_frame("breast_cancer")
    cancer[LABEL] = (cancer[LABEL] == 0).astype("int64")  # malignant is the anomaly
    forest = {"estimator": "isolation_forest", "n_estimators": 50, "contamination": 0.1}
    model = Trained("cancer", "anomaly", tmp_path_factory.mktemp("cancer"), cancer, sklearn=forest)
    assert model.reference.task == "anomaly"
    labels = [int(v) for v in model.test[LABEL]]
    logged, same = model.monitor(tmp_path / "test", model.test, labels)
    perf = same.performance
    assert perf is not None
    assert perf.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(labels, logged["score"]))
    assert perf.metrics["precision"] == pytest.approx(
        skm.precision_score(labels, logged["prediction"], zero_division=0)
    )
    assert perf.metrics["recall"] == pytest.approx(skm.recall_score(labels, logged["prediction"]))
    assert same.indicators["performance.roc_auc_drop"] == pytest.approx(
        model.evaluation["roc_auc"] - perf.metrics["roc_auc"]
    )
    malignant = cancer[cancer[LABEL] == 1]
    _, shifted = model.monitor(tmp_path / "malignant", malignant)
    assert shifted.prediction is not None and shifted.prediction.ks > 0.3
    assert shifted.indicators["prediction.psi"] > 0.25
