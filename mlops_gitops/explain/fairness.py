"""Fairness: per-group metrics and parity gaps of the model's decisions, with fairlearn.

The analysis follows the model's task (:func:`fairness_of`): a binary
classifier as below; a multiclass one per class one-vs-rest (selection rate
and true/false positive rate of each class, their parity gaps, the worst
class as the attribute's gap) plus accuracy and macro F1 per group; a
regression the error per group (MAE, RMSE, mean prediction) and the largest
gap between groups (``mae_difference``, ``rmse_difference``).

For each sensitive attribute (``schema.sensitive`` in params) a fairlearn
``MetricFrame`` gives per-group counts, selection rate (share of positive
decisions), true and false positive rates and accuracy; the demographic
parity difference (largest gap in selection rate) and equalized odds
difference (largest gap in true or false positive rate) summarise it. The
top-level figures are the worst over all attributes, so one policy rule
(``fairness.demographic_parity_difference <= 0.1``) covers them all. Missing
attribute values form their own group, ``missing``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops_gitops.explain.explained_model import ExplainError

if TYPE_CHECKING:
    from mlops_gitops.explain.explained_model import TabularModel

MISSING_GROUP = "missing"


def fairness_metrics(
    frame: pd.DataFrame,
    labels: np.ndarray,
    decisions: np.ndarray,
    *,
    sensitive: Sequence[str],
) -> dict[str, object]:
    """Return the fairness metrics of ``decisions`` (0/1) against ``labels`` per attribute.

    The result is what ``metrics/fairness.json`` holds under the key ``fairness``::

        {"demographic_parity_difference": x, "equalized_odds_difference": y,
         "by_attribute": {attr: {"demographic_parity_difference": ..., ...}},
         "by_group": {attr: {group: {"count": n, "selection_rate": ..., ...}}}}

    Raises:
        ExplainError: a sensitive attribute is not a column of ``frame``.
    """
    _check_present(frame, sensitive)
    y_true, y_pred = np.asarray(labels, dtype=int), np.asarray(decisions, dtype=int)
    by_attribute: dict[str, dict[str, float]] = {}
    by_group: dict[str, dict[str, dict[str, float | int]]] = {}
    for name in sensitive:
        by_group[name], by_attribute[name] = _measure(_groups(frame[name]), y_true, y_pred)
    return {
        "demographic_parity_difference": _worst(by_attribute, "demographic_parity_difference"),
        "equalized_odds_difference": _worst(by_attribute, "equalized_odds_difference"),
        "by_attribute": by_attribute,
        "by_group": by_group,
    }


def fairness_of(
    model: TabularModel,
    frame: pd.DataFrame,
    labels: np.ndarray,
    *,
    threshold: float,
    sensitive: Sequence[str],
) -> dict[str, object]:
    """Return the fairness metrics that fit ``model``'s task on ``frame`` (encoded ``labels``).

    Raises:
        ExplainError: a sensitive attribute is not a column of ``frame``.
    """
    scores = model.predict_proba(frame)
    decisions = model.decide(scores, threshold=threshold)
    if model.explains == "classes":
        return multiclass_fairness(
            frame, labels, decisions, classes=model.classes, sensitive=sensitive
        )
    if model.explains == "value":
        return regression_fairness(frame, labels, decisions, sensitive=sensitive)
    return fairness_metrics(frame, labels, decisions, sensitive=sensitive)


def multiclass_fairness(
    frame: pd.DataFrame,
    labels: np.ndarray,
    decisions: np.ndarray,
    *,
    classes: Sequence[str],
    sensitive: Sequence[str],
) -> dict[str, object]:
    """Return per-class one-vs-rest parity gaps, and accuracy and macro F1 per group.

    ``by_class[attr][class]`` holds the one-vs-rest binary figures of
    :func:`fairness_metrics`; an attribute's ``demographic_parity_difference``
    and ``equalized_odds_difference`` are its worst class's.
    """
    from sklearn.metrics import accuracy_score, f1_score

    _check_present(frame, sensitive)
    y_true, y_pred = np.asarray(labels, dtype=int), np.asarray(decisions, dtype=int)

    def macro_f1(t: np.ndarray, p: np.ndarray) -> float:
        return float(f1_score(t, p, average="macro", labels=list(range(len(classes))),
                              zero_division=0))  # fmt: skip

    scores = {"accuracy": accuracy_score, "f1_macro": macro_f1}
    by_attribute: dict[str, dict[str, float]] = {}
    by_group: dict[str, dict[str, dict[str, float | int]]] = {}
    by_class: dict[str, dict[str, dict[str, float]]] = {}
    for name in sensitive:
        groups = _groups(frame[name])
        by_group[name], gaps = _per_group(groups, y_true, y_pred, scores)
        by_class[name] = {
            c: _measure(groups, (y_true == k).astype(int), (y_pred == k).astype(int))[1]
            for k, c in enumerate(classes)
        }
        for key in ("demographic_parity_difference", "equalized_odds_difference"):
            gaps[key] = _worst(by_class[name], key)
        by_attribute[name] = gaps
    keys = ("demographic_parity_difference", "equalized_odds_difference",
            "accuracy_difference", "f1_macro_difference")  # fmt: skip
    return {
        **{key: _worst(by_attribute, key) for key in keys},
        "by_attribute": by_attribute,
        "by_group": by_group,
        "by_class": by_class,
    }


def regression_fairness(
    frame: pd.DataFrame,
    actual: np.ndarray,
    predicted: np.ndarray,
    *,
    sensitive: Sequence[str],
) -> dict[str, object]:
    """Return the error per group (MAE, RMSE, mean prediction) and the largest gaps."""
    from sklearn.metrics import mean_absolute_error

    _check_present(frame, sensitive)
    y_true, y_pred = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)

    def rmse(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.sqrt(np.mean((t - p) ** 2)))

    def mean_predicted(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(p))

    scores = {"mae": mean_absolute_error, "rmse": rmse, "mean_predicted": mean_predicted}
    by_attribute: dict[str, dict[str, float]] = {}
    by_group: dict[str, dict[str, dict[str, float | int]]] = {}
    for name in sensitive:
        by_group[name], by_attribute[name] = _per_group(
            _groups(frame[name]), y_true, y_pred, scores
        )
    return {
        "mae_difference": _worst(by_attribute, "mae_difference"),
        "rmse_difference": _worst(by_attribute, "rmse_difference"),
        "by_attribute": by_attribute,
        "by_group": by_group,
    }


def _per_group(
    groups: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: dict[str, Callable[[np.ndarray, np.ndarray], float]],
) -> tuple[dict[str, dict[str, float | int]], dict[str, float]]:
    """Return ``scores`` per group (with counts) and each score's largest gap between groups."""
    from fairlearn.metrics import MetricFrame, count

    table = MetricFrame(
        metrics={"count": count, **scores}, y_true=y_true, y_pred=y_pred,
        sensitive_features=groups,
    )  # fmt: skip
    per_group = {
        str(group): {metric: _cell(metric, value) for metric, value in row.items()}
        for group, row in table.by_group.to_dict(orient="index").items()
    }
    gaps = table.difference(method="between_groups")
    return per_group, {f"{name}_difference": float(gaps[name]) for name in scores}


def _check_present(frame: pd.DataFrame, sensitive: Sequence[str]) -> None:
    absent = [name for name in sensitive if name not in frame.columns]
    if absent:
        raise ExplainError(
            f"schema.sensitive: {', '.join(absent)} not in the test data; "
            "keep sensitive attributes in data/prepared (features only when the model lists them)"
        )


def _measure(
    groups: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray
) -> tuple[dict[str, dict[str, float | int]], dict[str, float]]:
    """Return the per-group metrics and the parity differences of one attribute."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    metrics = {
        "count": count,
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "accuracy": accuracy_score,
    }
    table = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    per_group = {
        str(group): {metric: _cell(metric, value) for metric, value in row.items()}
        for group, row in table.by_group.to_dict(orient="index").items()
    }
    gaps = {
        "demographic_parity_difference": float(
            demographic_parity_difference(y_true, y_pred, sensitive_features=groups)
        ),
        "equalized_odds_difference": float(
            equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
        ),
    }
    return per_group, gaps


def _groups(column: pd.Series) -> np.ndarray:
    groups: np.ndarray = column.astype(object).where(column.notna(), MISSING_GROUP).to_numpy(str)
    return groups


def _cell(metric: str, value: object) -> float | int:
    number = float(value)  # type: ignore[arg-type]  # MetricFrame cells are numbers
    if metric == "count":
        return int(number)
    return number if np.isfinite(number) else float("nan")


def _worst(by_attribute: dict[str, dict[str, float]], key: str) -> float:
    # NaN (null in JSON) when nothing was measured, so a policy never passes on no data
    values = [v[key] for v in by_attribute.values() if np.isfinite(v[key])]
    return max(values) if values else float("nan")
