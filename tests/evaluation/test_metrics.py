"""Evaluation metrics against scikit-learn's own functions, slices and the plot files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML
from sklearn import metrics as skm

from mlops_gitops.evaluation import (
    PLOT_FILES,
    calibration_points,
    classification_metrics,
    confusion_records,
    precision_recall_points,
    roc_points,
    slice_metrics,
    write_plots,
)
from mlops_gitops.project import template_root

LABELS = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0], dtype=np.int64)
PROBA = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.55, 0.6, 0.45, 0.05])


def test_metrics_equal_scikit_learn_on_a_hand_made_set():
    got = classification_metrics(LABELS, PROBA, threshold=0.5)
    predicted = (PROBA >= 0.5).astype(int)
    assert predicted.tolist() == [0, 0, 0, 1, 0, 1, 1, 1, 0, 0]
    assert got == pytest.approx(
        {
            "accuracy": 0.7,
            "roc_auc": skm.roc_auc_score(LABELS, PROBA),
            "f1": skm.f1_score(LABELS, predicted),
            "precision": 0.75,
            "recall": 0.6,
            "log_loss": skm.log_loss(LABELS, PROBA),
        }
    )


def test_threshold_moves_the_decision():
    low = classification_metrics(LABELS, PROBA, threshold=0.3)
    assert (
        low["recall"] == 1.0
        and low["roc_auc"] == classification_metrics(LABELS, PROBA, threshold=0.5)["roc_auc"]
    )


def test_slice_metrics_group_each_value_and_missing_values():
    frame = pd.DataFrame({"sex": ["F", "M"] * 5, "region": ["n"] * 9 + [None]})
    slices = slice_metrics(frame, LABELS, PROBA, columns=["sex", "region"], threshold=0.5)
    assert set(slices) == {"sex", "region"}
    assert set(slices["sex"]) == {"F", "M"}
    female = slices["sex"]["F"]
    mask = frame["sex"].eq("F").to_numpy()
    assert female["rows"] == 5
    assert female["accuracy"] == pytest.approx(skm.accuracy_score(LABELS[mask], PROBA[mask] >= 0.5))
    assert female["base_rate"] == pytest.approx(LABELS[mask].mean())
    assert female["positive_rate"] == pytest.approx((PROBA[mask] >= 0.5).mean())
    assert slices["region"]["(missing)"]["rows"] == 1
    assert math.isnan(slices["region"]["(missing)"]["roc_auc"])


def _dvc_plot_fields() -> dict[str, tuple[str, str]]:
    dvc_yaml = YAML(typ="safe").load((template_root() / "dvc.yaml").read_text())
    fields = {}
    for entry in dvc_yaml["stages"]["evaluate"]["plots"]:
        ((path, spec),) = entry.items()
        fields[Path(path).name] = (spec["x"], spec["y"])
    return fields


def test_plot_files_have_the_fields_dvc_yaml_names(tmp_path):
    plots = {
        "roc": roc_points(LABELS, PROBA),
        "precision_recall": precision_recall_points(LABELS, PROBA),
        "confusion": confusion_records(LABELS, (PROBA >= 0.5).astype(np.int64)),
        "calibration": calibration_points(LABELS, PROBA, bins=5),
    }
    written = write_plots(tmp_path, plots)
    fields = _dvc_plot_fields()
    assert sorted(p.name for p in written) == sorted(fields) == sorted(PLOT_FILES.values())
    for path in written:
        records = json.loads(path.read_text())
        assert isinstance(records, list) and records
        x, y = fields[path.name]
        assert all(x in r and y in r for r in records), path.name


def test_roc_and_pr_curves_match_scikit_learn_and_are_thinned():
    fpr, tpr, _ = skm.roc_curve(LABELS, PROBA)
    points = roc_points(LABELS, PROBA)
    assert [p["fpr"] for p in points] == pytest.approx(fpr.tolist())
    assert [p["tpr"] for p in points] == pytest.approx(tpr.tolist())
    rng = np.random.default_rng(0)
    many_labels = rng.integers(0, 2, 5000)
    many_proba = rng.random(5000)
    roc = roc_points(many_labels, many_proba, max_points=150)
    pr = precision_recall_points(many_labels, many_proba, max_points=150)
    assert len(roc) <= 150 and len(pr) <= 150
    assert (roc[0]["fpr"], roc[-1]["fpr"], roc[-1]["tpr"]) == (0.0, 1.0, 1.0)
    assert pr[-1]["recall"] == 0.0 and pr[-1]["precision"] == 1.0


def test_confusion_has_one_record_per_row_and_calibration_bins_count_rows():
    confusion = confusion_records(LABELS, (PROBA >= 0.5).astype(np.int64))
    assert len(confusion) == len(LABELS)
    assert confusion[2] == {"actual": 1, "predicted": 0}
    bins = calibration_points(LABELS, PROBA, bins=5)
    assert sum(b["count"] for b in bins) == len(LABELS)
    first = bins[0]
    assert first["bin"] == 0 and first["mean_predicted"] == pytest.approx(np.mean([0.1, 0.05]))
    assert first["fraction_positive"] == 0.0
