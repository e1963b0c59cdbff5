"""Prepare -> train -> export -> evaluate for each task, on data sets that ship with scikit-learn.

``load_wine`` (three named cultivars) is the multiclass case and
``load_diabetes`` (a disease-progression score) the regression one: real
data the project did not generate. Each run checks the task recorded in the
metadata, the ONNX contract and equivalence, and the task's metrics.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pandas as pd
import pytest
from sklearn import datasets
from sklearn import metrics as skm

from mlops_gitops.training import load_trained_model, read_meta
from tests.helpers.task_pipeline import run_pipeline

LABEL = "target"


def _raw(name: str) -> pd.DataFrame:
    loaded = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = loaded.frame.rename(columns=lambda c: str(c).replace("/", "_"))
    if name == "wine":  # class names, not codes: the label a user would have
        frame[LABEL] = np.asarray(loaded.target_names)[frame[LABEL].to_numpy()]
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    return frame


def _run(name: str, task: str, folder):
    return run_pipeline(_raw(name), task, folder, label=LABEL, sklearn={"max_iter": 20}, name=name)


def _props(folder) -> dict[str, str]:
    proto = onnx.load(folder / "model.onnx")
    return {p.key: p.value for p in proto.metadata_props} | {
        "outputs": ",".join(o.name for o in proto.graph.output)
    }


@pytest.mark.slow
def test_multiclass_wine_keeps_class_names_from_training_to_evaluation(tmp_path):
    prepared, meta, check, evaluation = _run("wine", "multiclass", tmp_path)
    classes = ["class_0", "class_1", "class_2"]
    assert meta.task == "multiclass" and meta.classes == classes
    assert read_meta(tmp_path / "trained").classes == classes
    props = _props(tmp_path)
    assert props["task"] == "multiclass" and json.loads(props["classes"]) == classes
    assert props["outputs"] == "label,probabilities"
    assert check.max_abs_diff <= 1e-4 and check.label_agreement == 1.0
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert list(written) == [
        *("accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr"),
        *("rows", "slices", "per_class"),
    ]
    test = pd.read_parquet(prepared.paths["test"])
    assert sorted(test[LABEL].unique()) == classes  # stratified: every class in the test set
    proba = load_trained_model(tmp_path / "trained").predict(test)
    codes = test[LABEL].map({c: i for i, c in enumerate(classes)}).to_numpy()
    assert written["accuracy"] == pytest.approx(skm.accuracy_score(codes, proba.argmax(axis=1)))
    assert written["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(codes, proba, multi_class="ovr")
    )
    assert written["accuracy"] > 0.8
    assert list(written["per_class"]) == classes
    recall = skm.recall_score(codes, proba.argmax(axis=1), average=None)
    assert [written["per_class"][c]["recall"] for c in classes] == pytest.approx(recall)
    assert sum(written["per_class"][c]["support"] for c in classes) == len(test)
    assert [p.name for p in evaluation.plots] == ["confusion.json"]
    confusion = json.loads((tmp_path / "plots" / "confusion.json").read_text())
    assert len(confusion) == len(test) and {r["actual"] for r in confusion} == set(classes)


@pytest.mark.slow
def test_regression_diabetes_predicts_values_with_one_onnx_output(tmp_path):
    prepared, meta, check, evaluation = _run("diabetes", "regression", tmp_path)
    assert meta.task == "regression" and meta.classes is None
    props = _props(tmp_path)
    assert props["task"] == "regression" and props["outputs"] == "prediction"
    assert check.max_abs_diff <= 1e-4 and check.label_agreement is None
    assert "onnx_label_agreement" not in json.loads((tmp_path / "export.json").read_text())
    # Not stratified: a stratified split of 400-odd distinct values would leave no test rows.
    assert prepared.rows["test"] == pytest.approx(0.15 * 442, abs=2)
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert list(written) == [
        *("rmse", "mae", "r2", "mape", "residual_mean", "residual_std"),
        *("rows", "slices"),
    ]
    test = pd.read_parquet(prepared.paths["test"])
    predicted = load_trained_model(tmp_path / "trained").predict(test)
    assert predicted.shape == (len(test),)
    assert written["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(test[LABEL], predicted)))
    assert written["r2"] == pytest.approx(skm.r2_score(test[LABEL], predicted))
    assert written["r2"] > 0
    assert [p.name for p in evaluation.plots] == ["predicted_vs_actual.json"]
    live = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    # The loss curve's last point and the headline metric (no classification metric).
    assert set(live["valid"]) == {"squared_error", "rmse"}


# A network small and short enough for two shared cores, long enough to learn something.
LIGHTNING = {"hidden": [16], "max_epochs": 15, "batch_size": 32, "lr": 0.01, "accelerator": "cpu"}


def _run_lightning(name: str, task: str, folder, *, tolerance: float = 1e-4):
    return run_pipeline(
        _raw(name), task, folder, label=LABEL, lightning=LIGHTNING, name=name, tolerance=tolerance
    )


def _served(folder, task: str, frame: pd.DataFrame):
    from mlops_gitops.tasks import load_task
    from mlops_gitops.training.onnx_export import run_onnx

    meta = read_meta(folder / "trained")
    proto = onnx.load(folder / "model.onnx")
    outputs = run_onnx(proto, frame, meta.features)
    named = dict(zip((o.name for o in proto.graph.output), outputs, strict=True))
    return load_task(task).served(named, classes=meta.classes or [], threshold=0.5)


@pytest.mark.slow
def test_lightning_multiclass_wine_softmax_head_runs_prepare_to_evaluate(tmp_path):
    prepared, meta, check, _ = _run_lightning("wine", "multiclass", tmp_path)
    classes = ["class_0", "class_1", "class_2"]
    assert meta.family == "lightning" and meta.task == "multiclass" and meta.classes == classes
    props = _props(tmp_path)
    assert props["family"] == "lightning" and json.loads(props["classes"]) == classes
    assert props["outputs"] == "label,probabilities"
    assert check.max_abs_diff <= 1e-4 and check.label_agreement == 1.0
    architecture = json.loads((tmp_path / "trained" / "network.json").read_text())
    assert architecture["head"] == "classes" and architecture["outputs"] == 3
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert list(written) == [
        *("accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr"),
        *("rows", "slices", "per_class"),
    ]
    test = pd.read_parquet(prepared.paths["test"])
    proba = load_trained_model(tmp_path / "trained").predict(test)
    assert proba.shape == (len(test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    codes = test[LABEL].map({c: i for i, c in enumerate(classes)}).to_numpy()
    assert written["accuracy"] == pytest.approx(skm.accuracy_score(codes, proba.argmax(axis=1)))
    assert written["accuracy"] > 0.8
    served = _served(tmp_path, "multiclass", test)
    assert list(served.predictions) == [classes[c] for c in proba.argmax(axis=1)]
    live = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    # The curves follow the task's metrics on the validation split, the loss on both.
    assert {"log_loss", "accuracy", "f1_macro", "f1_weighted", "roc_auc_ovr"} <= set(live["valid"])
    curves = tmp_path / "dvclive" / "plots" / "metrics"
    assert len((curves / "valid" / "f1_macro.tsv").read_text().splitlines()) == 1 + 15
    assert (curves / "train" / "log_loss.tsv").exists()


@pytest.mark.slow
def test_lightning_regression_diabetes_predicts_in_the_labels_units(tmp_path):
    raw = _raw("diabetes")
    # float32 in the graph and the network: a thousandth of a unit on labels in the hundreds.
    prepared, meta, check, _ = _run_lightning("diabetes", "regression", tmp_path, tolerance=1e-3)
    assert meta.family == "lightning" and meta.task == "regression" and meta.classes is None
    props = _props(tmp_path)
    assert props["outputs"] == "prediction" and check.label_agreement is None
    assert check.max_abs_diff <= 1e-3
    shape = onnx.load(tmp_path / "model.onnx").graph.output[0].type.tensor_type.shape.dim
    assert len(shape) == 2 and shape[1].dim_value == 1
    architecture = json.loads((tmp_path / "trained" / "network.json").read_text())
    train = pd.read_parquet(prepared.paths["train"])
    assert architecture["head"] == "value" and architecture["outputs"] == 1
    assert architecture["shift"] == pytest.approx(train[LABEL].mean())
    assert architecture["scale"] == pytest.approx(train[LABEL].std(ddof=0))
    test = pd.read_parquet(prepared.paths["test"])
    predicted = load_trained_model(tmp_path / "trained").predict(test)
    written = json.loads((tmp_path / "evaluate.json").read_text())
    # The regression task's metrics, as the sklearn model's evaluation lists them.
    assert [k for k in written if k not in ("rows", "slices")][:3] == ["rmse", "mae", "r2"]
    assert predicted.shape == (len(test),)
    assert written["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(test[LABEL], predicted)))
    # In the label's units: better than predicting the mean, centred where the label is.
    assert written["r2"] > 0.2
    assert abs(predicted.mean() - raw[LABEL].mean()) < 0.5 * raw[LABEL].std()
    served = _served(tmp_path, "regression", test)
    np.testing.assert_allclose(served.predictions, predicted, rtol=1e-5)
    live = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    assert {"rmse", "mae", "r2"} <= set(live["valid"]) and "rmse" in live["train"]
