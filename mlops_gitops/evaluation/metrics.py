"""Test-set metrics, overall and per slice, as the model's task defines them.

The metrics themselves live in :mod:`mlops_gitops.tasks`; this module groups
rows into slices. ``classification_metrics`` is the binary task's set: for
the positive class 1 at a decision threshold on its probability. A metric
that is undefined for the rows at hand (ROC AUC of a slice holding one
class) is NaN, written as ``null`` in the metrics file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlops_gitops.tasks import score
from mlops_gitops.tasks.binary import BINARY_METRICS, BinaryTask

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks import Task

# The binary task's metrics, in the order the metrics file lists them.
METRIC_NAMES = tuple(metric.name for metric in BINARY_METRICS)
MISSING_SLICE = "(missing)"


def classification_metrics(
    labels: npt.NDArray[np.int64], proba: npt.NDArray[np.float64], *, threshold: float
) -> dict[str, float]:
    """Return accuracy, ROC AUC, F1, precision, recall and log loss of ``proba`` (class 1)."""
    return score(BinaryTask(), labels, proba, threshold=threshold)


def slice_metrics(
    frame: pd.DataFrame,
    labels: npt.NDArray[np.generic],
    scores: npt.NDArray[np.float64],
    *,
    columns: Sequence[str],
    threshold: float,
    task: Task | None = None,
    points: npt.NDArray[np.float64] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """Return ``{column: {value: metrics}}`` for each slice column of ``frame``.

    ``scores`` are the task's decision scores (``Task.decision_scores``; the
    class-1 probability of the default ``binary`` task). Each slice also
    carries its ``rows`` and the task's rates (``Task.rates``; for binary its
    ``base_rate``, the share of actual positives, and its ``positive_rate``,
    the share predicted positive), the inputs of fairness checks. Missing
    values form the slice ``(missing)``. ``points`` (rows in the model's
    feature space) feed the metrics that need them (clustering).
    """
    kind = task if task is not None else BinaryTask()
    result: dict[str, dict[str, dict[str, float]]] = {}
    for column in columns:
        values = frame[column].astype(object).where(frame[column].notna(), MISSING_SLICE)
        keys = values.astype(str).to_numpy()
        groups: dict[str, dict[str, float]] = {}
        for key in sorted(set(keys.tolist())):
            mask = keys == key
            groups[key] = {
                "rows": int(mask.sum()),
                **kind.rates(labels[mask], scores[mask], threshold=threshold),
                **score(
                    kind,
                    labels[mask],
                    scores[mask],
                    threshold=threshold,
                    points=None if points is None else points[mask],
                ),
            }
        result[column] = groups
    return result
