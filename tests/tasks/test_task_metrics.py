"""Each task's decision rule and metrics against scikit-learn's own functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mlops_gitops.tasks import load_task, score

PROBA = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
CODES = np.array([0, 1, 1, 0], dtype=np.int64)


def test_binary_decides_by_threshold_on_the_positive_probability():
    task = load_task("binary")
    scores = task.decision_scores(np.array([[0.8, 0.2], [0.3, 0.7]]))
    assert scores.tolist() == [0.2, 0.7]
    assert task.decide(scores, threshold=0.5).tolist() == [0, 1]
    assert task.decide(scores, threshold=0.1).tolist() == [1, 1]
    assert task.decision_rule(0.3) == {"threshold": 0.3}


def test_binary_metrics_keep_their_names_and_order():
    task = load_task("binary")
    values = score(task, np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.4, 0.3]), threshold=0.5)
    assert list(values) == ["accuracy", "roc_auc", "f1", "precision", "recall", "log_loss"]
    assert values["accuracy"] == 0.75 and values["roc_auc"] == 1.0
    directions = {m.name: m.direction for m in task.metrics}
    assert directions["log_loss"] == "minimize" and directions["roc_auc"] == "maximize"


def test_multiclass_decides_by_arg_max_whatever_the_threshold():
    task = load_task("multiclass")
    assert task.decide(PROBA, threshold=0.99).tolist() == [0, 1, 2, 0]
    assert task.decision_rule(0.5) == {}


def test_multiclass_metrics_equal_scikit_learn():
    values = score(load_task("multiclass"), CODES, PROBA, threshold=0.5)
    decided = PROBA.argmax(axis=1)
    assert values == pytest.approx(
        {
            "accuracy": 0.75,
            "f1_macro": skm.f1_score(CODES, decided, labels=[0, 1, 2], average="macro"),
            "f1_weighted": skm.f1_score(CODES, decided, labels=[0, 1, 2], average="weighted"),
            "log_loss": skm.log_loss(CODES, PROBA, labels=[0, 1, 2]),
            "roc_auc_ovr": math.nan,
        },
        nan_ok=True,
    )
    every = np.array([0, 1, 2, 0])
    auc = score(load_task("multiclass"), every, PROBA, threshold=0.5)["roc_auc_ovr"]
    assert auc == pytest.approx(skm.roc_auc_score(every, PROBA, multi_class="ovr"))


def test_multiclass_per_class_metrics_equal_scikit_learn_by_class_name():
    task = load_task("multiclass")
    per_class = task.per_class(CODES, PROBA, threshold=0.5, classes=("low", "mid", "high"))
    decided = PROBA.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        CODES, decided, labels=[0, 1, 2], zero_division=0
    )
    assert list(per_class) == ["low", "mid", "high"]
    for code, name in enumerate(per_class):
        assert per_class[name] == pytest.approx(
            {
                "precision": precision[code],
                "recall": recall[code],
                "f1": f1[code],
                "support": support[code],
            }
        )
    assert per_class["high"]["support"] == 0 and per_class["mid"]["recall"] == 0.5


def test_binary_and_regression_have_no_per_class_section():
    for name, scores in (("binary", np.array([0.1, 0.9])), ("regression", np.array([1.0, 2.0]))):
        task = load_task(name)
        labels = np.array([0, 1])
        assert task.per_class(labels, scores, threshold=0.5, classes=("0", "1")) == {}


def test_regression_metrics_and_residuals():
    task = load_task("regression")
    actual = np.array([1.0, 2.0, 4.0])
    predicted = task.decision_scores(np.array([[1.5], [2.0], [3.0]]))
    values = score(task, actual, predicted, threshold=0.5)
    assert values["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3))
    assert values["mae"] == pytest.approx(0.5)
    assert values["r2"] == pytest.approx(skm.r2_score(actual, predicted))
    assert values["mape"] == pytest.approx(skm.mean_absolute_percentage_error(actual, predicted))
    assert values["residual_mean"] == pytest.approx(0.5 / 3)
    assert math.isnan(score(task, np.array([0.0, 1.0]), np.array([0.0, 1.0]), threshold=0)["mape"])
    assert task.agreement([predicted], predicted) is None


def test_each_task_names_its_onnx_outputs():
    outputs = {name: [o.name for o in load_task(name).outputs] for name in ("binary", "regression")}
    assert outputs == {"binary": ["label", "probabilities"], "regression": ["prediction"]}
