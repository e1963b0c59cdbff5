"""Clustering and anomaly: label rules, decisions, metrics on known data, and one-line refusals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlops_gitops.data.split import split_dataset
from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.params import parse_section
from mlops_gitops.quality.pandera_schema import DatasetKeys, SchemaSettings, build_schema
from mlops_gitops.tasks import encode_labels, load_task, score
from mlops_gitops.training import TrainingError, train_model
from mlops_gitops.training.settings import ModelSection

# Two tight groups on a line: points 0-2 near 0, points 3-5 near 10.
POINTS = np.array([[0.0], [0.5], [1.0], [10.0], [10.5], [11.0]])
CENTRES = np.array([[0.5], [10.5]])
DISTANCES = np.abs(POINTS - CENTRES.T)


def _frame(values) -> pd.DataFrame:
    return pd.DataFrame({"y": values})


def test_unsupervised_tasks_fit_without_a_label_and_supervised_ones_need_it():
    assert {name: load_task(name).supervised for name in ("clustering", "anomaly")} == {
        "clustering": False,
        "anomaly": False,
    }
    labels = encode_labels(load_task("clustering"), _frame([1, 2]), None, origin="t.parquet")
    assert labels.values.shape == (2,) and np.isnan(labels.values).all()
    with pytest.raises(DataError) as info:
        encode_labels(load_task("binary"), _frame([0, 1]), None, origin="t.parquet")
    assert str(info.value) == (
        "params.yaml data.label: task binary needs a label column; name it there"
    )


def test_a_named_label_that_is_absent_is_refused_even_for_clustering():
    with pytest.raises(DataError, match=r"no label column 'z'.*\(or null: task clustering"):
        encode_labels(load_task("clustering"), _frame([1]), "z", origin="t.parquet")


def test_an_anomaly_label_with_three_values_is_refused_in_one_line():
    with pytest.raises(DataError) as info:
        encode_labels(load_task("anomaly"), _frame([0, 1, 2]), "y", origin="t.parquet")
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        "t.parquet: label 'y' must hold 0 and 1 only for task anomaly (1 = anomaly; found 2); "
        "or set data.label: null to evaluate without it"
    )


def test_an_anomaly_label_may_hold_normal_rows_only():
    labels = encode_labels(load_task("anomaly"), _frame([0, 0]), "y", origin="t.parquet")
    assert labels.values.tolist() == [0, 0] and labels.values.dtype == np.int64


def test_clustering_decides_the_nearest_centre_and_reports_sizes():
    task = load_task("clustering")
    decided = task.decide(task.decision_scores(DISTANCES), threshold=0.5)
    assert decided.tolist() == [0, 0, 0, 1, 1, 1]
    assert task.decision_rule(0.5) == {}
    sizes = task.per_class(np.full(6, np.nan), DISTANCES, threshold=0.5, classes=())
    assert sizes == {"0": {"size": 3, "share": 0.5}, "1": {"size": 3, "share": 0.5}}


def test_clustering_metrics_equal_scikit_learn_and_are_nan_where_undefined():
    task = load_task("clustering")
    truth = np.array([0, 0, 1, 1, 1, 1])
    values = score(task, truth, DISTANCES, threshold=0.5, points=POINTS)
    decided = np.array([0, 0, 0, 1, 1, 1])
    assert values == pytest.approx(
        {
            "silhouette": skm.silhouette_score(POINTS, decided),
            "davies_bouldin": skm.davies_bouldin_score(POINTS, decided),
            "calinski_harabasz": skm.calinski_harabasz_score(POINTS, decided),
            "adjusted_rand": skm.adjusted_rand_score(truth, decided),
        }
    )
    one_cluster = score(task, truth[:3], DISTANCES[:3], threshold=0.5, points=POINTS[:3])
    assert math.isnan(one_cluster["silhouette"]) and math.isnan(one_cluster["davies_bouldin"])
    without = score(task, np.full(6, np.nan), DISTANCES, threshold=0.5)
    assert math.isnan(without["silhouette"]) and math.isnan(without["adjusted_rand"])


def test_anomaly_flags_scores_above_zero_and_ranks_with_labels():
    task = load_task("anomaly")
    scores = task.decision_scores(np.array([[0.3], [-0.2], [0.1], [-0.4], [-0.1]]))
    assert task.decide(scores, threshold=0.9).tolist() == [1, 0, 1, 0, 0]
    truth = np.array([1, 0, 0, 0, 1])
    values = score(task, truth, scores, threshold=0.5)
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, scores))
    assert values["average_precision"] == pytest.approx(skm.average_precision_score(truth, scores))
    assert values["precision_at_k"] == 0.5  # k = 2: the top two are rows 0 and 2
    assert values["share_flagged"] == 0.4
    assert values["score_p50"] == pytest.approx(-0.1)
    assert task.rates(truth, scores, threshold=0.5) == {"flagged_rate": 0.4, "anomaly_rate": 0.4}
    unlabelled = score(task, np.full(5, np.nan), scores, threshold=0.5)
    assert math.isnan(unlabelled["roc_auc"]) and math.isnan(unlabelled["precision_at_k"])
    assert unlabelled["share_flagged"] == 0.4


def test_each_unsupervised_task_names_its_onnx_outputs():
    outputs = {
        name: [(o.name, o.type) for o in load_task(name).outputs]
        for name in ("clustering", "anomaly")
    }
    assert outputs == {
        "clustering": [("label", "int64"), ("distances", "float")],
        "anomaly": [("label", "int64"), ("scores", "float")],
    }


def test_a_family_that_cannot_cluster_is_refused_when_params_are_read():
    with pytest.raises(ConfigError) as info:
        parse_section(
            ModelSection, {"name": "m", "family": "lightning", "task": "clustering"}, "model"
        )
    assert str(info.value) == (
        "params.yaml model.task: the lightning family fits binary, multiclass, regression, "
        "not clustering; "
        "choose one of those or another model.family"
    )


def test_a_split_without_a_label_is_random_and_an_anomaly_label_is_stratified():
    frame = pd.DataFrame({"x": range(100), "y": [1] * 10 + [0] * 90})
    plain = split_dataset(frame.drop(columns="y"), None, task="clustering")
    assert sum(len(part) for _, part in plain.items()) == 100
    with pytest.raises(DataError, match=r"params\.yaml data\.label: the task needs a label"):
        split_dataset(frame, None, task="binary")
    stratified = split_dataset(frame, "y", task="anomaly")
    assert [int(part["y"].sum()) for _, part in stratified.items()] == [7, 2, 1]


def test_a_schema_without_a_label_checks_no_label_column():
    keys = parse_section(DatasetKeys, {"label": None, "id_column": "id"}, "data")
    built = build_schema(SchemaSettings(), keys)
    assert {ref.column for ref in built.checks} == {"id"}


def _blobs(tmp_path, rows: int):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["y"] = np.arange(rows) % 2
    for name in ("train", "valid"):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)


def _train(tmp_path, task: str, sklearn: dict, label: str | None = None):
    return train_model(
        train=tmp_path / "train.parquet",
        valid=tmp_path / "valid.parquet",
        trained=tmp_path / "trained",
        live_dir=tmp_path / "dvclive",
        settings={"name": "m", "family": "sklearn", "task": task, "sklearn": sklearn},
        label=label,
    )


@pytest.mark.slow
def test_more_clusters_than_rows_is_refused_in_one_line_and_writes_nothing(tmp_path):
    _blobs(tmp_path, 5)
    with pytest.raises(TrainingError) as info:
        _train(tmp_path, "clustering", {"estimator": "kmeans", "n_clusters": 8})
    assert str(info.value) == (
        "params.yaml model.sklearn.n_clusters: 8 clusters need at least as many training rows "
        "(found 5); lower n_clusters"
    )
    assert not (tmp_path / "trained").exists()


@pytest.mark.parametrize(
    ("task", "sklearn", "message"),
    [
        (
            "clustering",
            {"estimator": "hist_gradient_boosting"},
            "hist_gradient_boosting fits binary, multiclass, regression, not clustering; "
            "for clustering choose one of kmeans",
        ),
        (
            "binary",
            {"estimator": "kmeans"},
            "kmeans fits clustering, not binary; for binary choose one of hist_gradient_boosting",
        ),
        (
            "anomaly",
            {"estimator": "kmeans"},
            "kmeans fits clustering, not anomaly; for anomaly choose one of isolation_forest",
        ),
        ("anomaly", {"contamination": 0.9}, "model.sklearn.contamination"),
        ("clustering", {"n_clusters": 3, "max_depth": 2}, "model.sklearn.max_depth"),
    ],
)
def test_an_estimator_or_key_that_does_not_fit_the_task_is_refused(
    tmp_path, task, sklearn, message
):
    _blobs(tmp_path, 20)
    with pytest.raises((TrainingError, ConfigError)) as info:
        _train(tmp_path, task, sklearn, label="y")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_estimator_that_does_not_fit_the_task_is_refused_when_params_are_read():
    settings = {"name": "m", "family": "sklearn", "task": "clustering"}
    with pytest.raises(ConfigError) as info:
        parse_section(
            ModelSection, {**settings, "sklearn": {"estimator": "random_forest"}}, "model"
        )
    assert (
        "model.sklearn.estimator: random_forest fits binary, multiclass, regression, "
        "not clustering; for clustering choose one of kmeans"
    ) in str(info.value)
    assert parse_section(ModelSection, {**settings, "sklearn": {"n_clusters": 3}}, "model")
