"""Classification metrics on the test set, overall and per slice.

All metrics are for the positive class 1 at a decision threshold on its
probability. A metric that is undefined for the rows at hand (ROC AUC of a
slice holding one class) is NaN, written as ``null`` in the metrics file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

METRIC_NAMES = ("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss")
MISSING_SLICE = "(missing)"


def classification_metrics(
    labels: npt.NDArray[np.int64], proba: npt.NDArray[np.float64], *, threshold: float
) -> dict[str, float]:
    """Return accuracy, ROC AUC, F1, precision, recall and log loss of ``proba`` (class 1)."""
    import numpy as np
    from sklearn import metrics

    predicted = (proba >= threshold).astype(np.int64)
    both_classes = len(np.unique(labels)) == 2
    return {
        "accuracy": float(metrics.accuracy_score(labels, predicted)),
        "roc_auc": float(metrics.roc_auc_score(labels, proba)) if both_classes else float("nan"),
        "f1": float(metrics.f1_score(labels, predicted, zero_division=0)),
        "precision": float(metrics.precision_score(labels, predicted, zero_division=0)),
        "recall": float(metrics.recall_score(labels, predicted, zero_division=0)),
        "log_loss": float(metrics.log_loss(labels, proba, labels=[0, 1])),
    }


def slice_metrics(
    frame: pd.DataFrame,
    labels: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64],
    *,
    columns: Sequence[str],
    threshold: float,
) -> dict[str, dict[str, dict[str, float]]]:
    """Return ``{column: {value: metrics}}`` for each slice column of ``frame``.

    Each slice also carries its ``rows``, its ``base_rate`` (share of actual
    positives) and its ``positive_rate`` (share predicted positive), the
    inputs of fairness checks. Missing values form the slice ``(missing)``.
    """
    import numpy as np

    result: dict[str, dict[str, dict[str, float]]] = {}
    for column in columns:
        values = frame[column].astype(object).where(frame[column].notna(), MISSING_SLICE)
        keys = values.astype(str).to_numpy()
        groups: dict[str, dict[str, float]] = {}
        for key in sorted(set(keys.tolist())):
            mask = keys == key
            scores = classification_metrics(labels[mask], proba[mask], threshold=threshold)
            groups[key] = {
                "rows": int(mask.sum()),
                "base_rate": float(np.mean(labels[mask])),
                "positive_rate": float(np.mean(proba[mask] >= threshold)),
                **scores,
            }
        result[column] = groups
    return result
