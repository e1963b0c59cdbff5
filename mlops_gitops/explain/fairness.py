"""Fairness: per-group metrics and parity gaps of the model's decisions, with fairlearn.

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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlops_gitops.explain.explained_model import ExplainError

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
    absent = [name for name in sensitive if name not in frame.columns]
    if absent:
        raise ExplainError(
            f"schema.sensitive: {', '.join(absent)} not in the test data; "
            "keep sensitive attributes in data/prepared (features only when the model lists them)"
        )
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
