"""The explain stage of models fitted without a label: k-means on iris, an isolation forest.

``load_iris`` without its species is clustered (no label at all); the
``load_breast_cancer`` anomaly set keeps its label for evaluation. Both are
prepared, trained and exported by the real pipeline functions and explained
through ONNX Runtime: attributions of the distance to the assigned centre or
of the anomaly score, importance against the label when there is one and
against the model's own decisions otherwise, and the analyses that do not
apply named, with their reason, in the report.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from mlops_gitops.errors import DataError
from mlops_gitops.explain import explain_model
from tests.explain.test_explain_tasks import SETTINGS
from tests.helpers.task_pipeline import run_pipeline
from tests.tasks.test_unsupervised_pipeline import LABEL, _cancer_anomalies, _iris

pytestmark = pytest.mark.slow


def _trained(folder, frame, task, label, sklearn):
    frame = frame.copy()
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    prepared, *_ = run_pipeline(frame, task, folder, label=label, sklearn=sklearn)
    return prepared.paths


def _explain(folder, paths, label, *, models=""):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return explain_model(
            model=str(folder / models / "model.onnx"), trained=str(folder / models / "trained"),
            train=str(paths["train"]), test=str(paths["test"]),
            settings=SETTINGS, label=label, sensitive=[],
        )  # fmt: skip
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def iris_clusters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris")
    paths = _trained(
        folder, _iris().drop(columns=[LABEL]), "clustering", None,
        {"estimator": "kmeans", "n_clusters": 3},
    )  # fmt: skip
    return folder, paths


@pytest.fixture(scope="module")
def cancer_anomalies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cancer")
    paths = _trained(
        folder, _cancer_anomalies(), "anomaly", LABEL,
        {"estimator": "isolation_forest", "n_estimators": 50, "contamination": 0.05},
    )  # fmt: skip
    return folder, paths


def test_a_clustering_is_explained_without_a_label_by_its_own_clusters(iris_clusters):
    folder, paths = iris_clusters
    result = _explain(folder, paths, None)
    importance = result.importance
    assert (importance.scoring, importance.against, importance.baseline) == (
        "adjusted_rand", "decisions", 1.0,
    )  # fmt: skip
    assert max(importance.mean.values()) > 0.1  # shuffling a petal moves flowers between clusters
    shap = result.attributions["shap"]
    nearest = result.model.predict_proba(shap.data).min(axis=1)  # the distance to its centre
    np.testing.assert_allclose(shap.output, nearest, atol=1e-6)
    np.testing.assert_allclose(shap.base_values + shap.values.sum(axis=1), nearest, atol=1e-4)
    assert result.surrogate is None and set(result.not_applicable) == {
        "surrogate", "counterfactuals", "fairness",
    }  # fmt: skip
    fairness = json.loads((folder / "metrics" / "fairness.json").read_text())["fairness"]
    assert fairness["applies"] is False and "without a label" in fairness["reason"]
    metrics = json.loads((folder / "metrics" / "explain.json").read_text())
    assert set(metrics["mutual_information"]) == set(importance.mean)
    assert metrics["counterfactuals_found"] == 0.0
    report = (folder / "reports" / "explain" / "report.md").read_text()
    assert "attributions explain the distance of a row to the centre of its cluster" in report
    assert "measured against the model's own decisions" in report
    assert "surrogate does not apply to a clustering model (its tree describes" in report
    assert "counterfactuals does not apply to a clustering model (a cluster" in report
    assert "fairness does not apply to a clustering model (without a label" in report
    assert "**Decision " in report and "(clustering): the distance of a row" in report


def test_an_anomaly_model_attributes_its_score_and_reads_the_label_when_there_is_one(
    cancer_anomalies,
):
    folder, paths = cancer_anomalies
    labelled = _explain(folder, paths, LABEL)
    assert (labelled.importance.scoring, labelled.importance.against) == ("roc_auc", "labels")
    shap = labelled.attributions["shap"]
    scores = labelled.model.predict_proba(shap.data)
    np.testing.assert_allclose(shap.base_values + shap.values.sum(axis=1), scores, atol=1e-4)
    assert labelled.surrogate is not None and 0 <= labelled.surrogate.fidelity <= 1
    assert set(labelled.not_applicable) == {"counterfactuals", "fairness"}
    report = (folder / "reports" / "explain" / "report.md").read_text()
    assert "attributions explain the anomaly score" in report
    assert "counterfactuals does not apply to an anomaly model (a flagged row" in report
    assert "measured against the model's own decisions" not in report
    unlabelled = _explain(folder, paths, None)
    assert (unlabelled.importance.scoring, unlabelled.importance.against) == (
        "roc_auc", "decisions",
    )  # fmt: skip
    assert unlabelled.importance.baseline == 1.0  # the flags are the scores above 0


def test_a_supervised_model_is_not_explained_without_its_label(tree_model, tmp_path):
    # A copy without reports/: the session's model folder is shared with the
    # explain stage's own tests, which write a report into it.
    for part in ("models", "data"):
        shutil.copytree(tree_model.folder / part, tmp_path / part)
    prepared = tmp_path / "data" / "prepared"
    splits = {name: prepared / f"{name}.parquet" for name in ("train", "test")}
    with pytest.raises(DataError, match=r"data.label: null, but the binary model at .* is "):
        _explain(tmp_path, splits, None, models="models")
    assert not (tmp_path / "reports").exists()
