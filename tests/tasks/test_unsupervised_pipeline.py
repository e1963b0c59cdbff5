"""Prepare -> train -> export -> evaluate for clustering and anomaly on data scikit-learn ships.

``load_iris`` without its species is the clustering case (the species only
scores the clusters, adjusted Rand index); ``load_breast_cancer`` with the
malignant class cut down to a few percent is the anomaly case (the label
kept for evaluation, never fitted). Each run checks the ONNX contract and
equivalence against the scikit-learn model and the metrics files.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pandas as pd
import pytest
from sklearn import datasets
from sklearn import metrics as skm

from mlops_gitops.training import load_trained_model, run_onnx
from tests.helpers.task_pipeline import run_pipeline

LABEL = "target"


def _iris() -> pd.DataFrame:
    frame = datasets.load_iris(as_frame=True).frame
    frame.columns = [str(c).replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
    return frame


def _cancer_anomalies() -> pd.DataFrame:
    frame = datasets.load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    # malignant (target 0) is the anomaly: keep 15 of them among the 357 benign rows
    malignant = frame[frame[LABEL] == 0].sample(15, random_state=0)
    kept = pd.concat([frame[frame[LABEL] == 1], malignant]).sort_index()
    return kept.assign(**{LABEL: (kept[LABEL] == 0).astype("int64")})


def _run(frame: pd.DataFrame, task: str, folder, **settings):
    frame = frame.copy()
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    return run_pipeline(frame, task, folder, **settings)


def _onnx(folder, test):
    proto = onnx.load(folder / "model.onnx")
    loaded = load_trained_model(folder / "trained")
    props = {p.key: p.value for p in proto.metadata_props}
    outputs = [(o.name, o.type.tensor_type.elem_type) for o in proto.graph.output]
    return loaded, props, outputs, run_onnx(proto, test, loaded.meta.features)


@pytest.mark.slow
def test_clustering_iris_without_a_label_exports_identical_cluster_ids(tmp_path):
    prepared, meta, check, evaluation = _run(
        _iris().drop(columns=[LABEL]),
        "clustering",
        tmp_path,
        label=None,
        sklearn={"estimator": "kmeans", "n_clusters": 3},
    )
    assert meta.task == "clustering" and meta.label is None and meta.classes is None
    test = pd.read_parquet(prepared.paths["test"])
    loaded, props, outputs, (ids, distances) = _onnx(tmp_path, test)
    assert props["task"] == "clustering" and props["label"] == ""
    assert outputs == [("label", onnx.TensorProto.INT64), ("distances", onnx.TensorProto.FLOAT)]
    expected = loaded.predict(test)
    pipeline = loaded.model.pipeline
    assert ids.tolist() == pipeline.predict(test[meta.feature_names()]).tolist()
    assert ids.tolist() == expected.argmin(axis=1).tolist()
    assert distances.shape == (len(test), 3)
    assert np.max(np.abs(distances - expected)) <= 1e-4
    assert check.label_agreement == 1.0 and check.max_abs_diff <= 1e-4
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert list(written) == [
        *("silhouette", "davies_bouldin", "calinski_harabasz", "adjusted_rand"),
        *("rows", "slices", "per_class"),
    ]
    points = loaded.embed(test)
    assert written["silhouette"] == pytest.approx(skm.silhouette_score(points, ids))
    assert written["davies_bouldin"] == pytest.approx(skm.davies_bouldin_score(points, ids))
    assert written["adjusted_rand"] is None  # no label to compare with
    sizes = {str(k): int(n) for k, n in enumerate(np.bincount(ids, minlength=3))}
    assert {k: v["size"] for k, v in written["per_class"].items()} == sizes
    assert [p.name for p in evaluation.plots] == ["cluster_sizes.json"]
    bars = json.loads((tmp_path / "plots" / "cluster_sizes.json").read_text())
    assert bars == [{"cluster": k, "size": v} for k, v in sizes.items()]


@pytest.mark.slow
def test_clustering_iris_scores_the_species_it_never_fitted_and_slices_by_it(tmp_path):
    species = datasets.load_iris().target_names
    frame = _iris().assign(**{LABEL: lambda f: species[f[LABEL].to_numpy()]})
    prepared, meta, _, _ = _run(
        frame,
        "clustering",
        tmp_path,
        label=LABEL,
        sklearn={"n_clusters": 3, "n_init": 5},  # kmeans: the task's default estimator
        slices=[LABEL],
    )
    assert meta.label == LABEL and LABEL not in meta.feature_names()
    test = pd.read_parquet(prepared.paths["test"])
    ids = load_trained_model(tmp_path / "trained").predict(test).argmin(axis=1)
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert written["adjusted_rand"] == pytest.approx(skm.adjusted_rand_score(test[LABEL], ids))
    assert written["adjusted_rand"] > 0.5
    slices = written["slices"][LABEL]
    assert set(slices) == set(species)
    # Within one species the clusters often collapse to one: undefined, so null, not a crash.
    for name, values in slices.items():
        one_cluster = len(set(ids[test[LABEL].to_numpy() == name].tolist())) == 1
        assert (values["silhouette"] is None) == one_cluster
        assert values["adjusted_rand"] is not None


@pytest.mark.slow
def test_anomaly_breast_cancer_flags_with_the_label_kept_for_evaluation(tmp_path):
    frame = _cancer_anomalies()
    frame["site"] = np.where(np.arange(len(frame)) % 3 == 0, "north", "south")
    prepared, meta, check, evaluation = _run(
        frame,
        "anomaly",
        tmp_path,
        label=LABEL,
        sklearn={"estimator": "isolation_forest", "n_estimators": 50, "contamination": 0.05},
        slices=["site"],
    )
    assert meta.task == "anomaly" and meta.label == LABEL and LABEL not in meta.feature_names()
    test = pd.read_parquet(prepared.paths["test"])
    assert test[LABEL].sum() >= 2  # stratified on the label: anomalies in every set
    loaded, props, outputs, (flags, scores) = _onnx(tmp_path, test)
    assert props["task"] == "anomaly"
    assert outputs == [("label", onnx.TensorProto.INT64), ("scores", onnx.TensorProto.FLOAT)]
    pipeline = loaded.model.pipeline
    columns = test[meta.feature_names()]
    assert flags.shape == (len(test),) and scores.shape == (len(test), 1)
    assert flags.tolist() == (pipeline.predict(columns) == -1).astype(int).tolist()
    assert np.max(np.abs(scores[:, 0] + pipeline.decision_function(columns))) <= 1e-4
    assert check.label_agreement == 1.0 and check.max_abs_diff <= 1e-4
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert list(written) == [
        *("roc_auc", "average_precision", "precision_at_k", "share_flagged"),
        *("score_p50", "score_p90", "score_p99", "rows", "score_threshold", "slices"),
    ]
    actual = test[LABEL].to_numpy()
    score = scores[:, 0].astype(np.float64)
    assert written["roc_auc"] == pytest.approx(skm.roc_auc_score(actual, score), abs=1e-6)
    assert written["roc_auc"] > 0.8
    k = int(actual.sum())
    top = np.argsort(-score)[:k]
    assert written["precision_at_k"] == pytest.approx(actual[top].mean())
    assert written["share_flagged"] == pytest.approx(flags.mean())
    assert written["score_p50"] == pytest.approx(np.median(score), abs=1e-5)
    for values in written["slices"]["site"].values():
        assert {"rows", "flagged_rate", "anomaly_rate", "roc_auc"} <= set(values)
    assert [p.name for p in evaluation.plots] == ["score_histogram.json"]
    histogram = json.loads((tmp_path / "plots" / "score_histogram.json").read_text())
    assert len(histogram) == 20 and sum(b["count"] for b in histogram) == len(test)
    live = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    assert {"roc_auc", "share_flagged"} <= set(live["valid"])
