"""Concept and performance drift: live metrics from feedback labels vs test metrics.

Feedback labels are joined to the logged predictions by ``request_id``. Over
the labelled rows of the window the model's metrics are computed (class
metrics from the logged ``prediction``, ``roc_auc`` and ``brier`` from the
``score``) and compared with the metrics of the version's own test set:
``performance.<metric>_drop = test - live`` (``live - test`` for ``brier``,
where lower is better), so a positive drop is always a degradation. The same
metrics per ``performance.bucket`` of time give the trend inside the window.
Below ``performance.min_labels`` labelled rows no metric is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mlops_gitops.monitoring.config import PerformanceConfig

if TYPE_CHECKING:
    import pandas as pd

LOWER_IS_BETTER = frozenset({"brier"})


@dataclass(frozen=True)
class PerformanceBucket:
    """The metrics of one time bucket of the window."""

    start: datetime
    rows: int
    metrics: Mapping[str, float]


@dataclass(frozen=True, kw_only=True)
class PerformanceReport:
    """Live metrics, their drop against the test metrics, and their trend."""

    labelled_rows: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    test_metrics: Mapping[str, float] = field(default_factory=dict)
    drops: Mapping[str, float] = field(default_factory=dict)
    buckets: tuple[PerformanceBucket, ...] = ()
    label_rate: float | None = None
    note: str = ""


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float | None:
    """Return the ROC AUC (Mann-Whitney with average ranks), None with a single class."""
    from scipy.stats import rankdata

    y = np.asarray(labels, dtype=bool)
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def classification_metrics(
    labels: npt.ArrayLike, predictions: npt.ArrayLike, scores: npt.ArrayLike, names: Sequence[str]
) -> dict[str, float]:
    """Return the requested metrics of binary labels, predicted classes and scores."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predictions, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    tp = int(((p == 1) & (y == 1)).sum())
    fp = int(((p == 1) & (y == 0)).sum())
    fn = int(((p == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    values: dict[str, float | None] = {
        "accuracy": float((y == p).mean()) if y.size else None,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "roc_auc": roc_auc(y, s),
        "brier": float(((s - y) ** 2).mean()) if y.size else None,
    }
    return {n: v for n in names if (v := values.get(n)) is not None}


def metric_drops(live: Mapping[str, float], test: Mapping[str, float]) -> dict[str, float]:
    """Return ``test - live`` per shared metric (``live - test`` where lower is better)."""
    drops = {}
    for name, value in live.items():
        if name in test:
            drops[name] = value - test[name] if name in LOWER_IS_BETTER else test[name] - value
    return drops


def join_feedback(predictions: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """Return the predictions that have a feedback label, with a ``label`` column."""
    if predictions.empty or feedback.empty:
        return predictions.iloc[0:0].assign(label=np.array([], dtype=np.int64))
    labels = feedback[["request_id", "label"]].astype({"request_id": str})
    return predictions.astype({"request_id": str}).merge(labels, on="request_id", how="inner")


def assess_performance(
    predictions: pd.DataFrame,
    feedback: pd.DataFrame,
    test_metrics: Mapping[str, float],
    config: PerformanceConfig | None = None,
) -> PerformanceReport:
    """Compute live metrics over the labelled predictions and compare them with the test set."""
    config = config or PerformanceConfig()
    labelled = join_feedback(predictions, feedback)
    rows = len(labelled)
    if rows < config.min_labels:
        return PerformanceReport(
            labelled_rows=rows,
            test_metrics=dict(test_metrics),
            note=f"{rows} labelled rows, fewer than performance.min_labels={config.min_labels}",
        )
    live = _metrics_of(labelled, config)
    return PerformanceReport(
        labelled_rows=rows,
        metrics=live,
        test_metrics=dict(test_metrics),
        drops=metric_drops(live, test_metrics),
        buckets=_buckets(labelled, config),
        label_rate=float(labelled["label"].mean()),
    )


def _metrics_of(frame: pd.DataFrame, config: PerformanceConfig) -> dict[str, float]:
    return classification_metrics(
        frame["label"].to_numpy(),
        frame["prediction"].to_numpy(),
        frame["score"].to_numpy(),
        config.metrics,
    )


def _buckets(frame: pd.DataFrame, config: PerformanceConfig) -> tuple[PerformanceBucket, ...]:
    import pandas as pd

    seconds = int(config.bucket.total_seconds())
    starts = frame["timestamp"].dt.floor(pd.Timedelta(seconds=seconds))
    buckets = []
    for start, group in frame.groupby(starts, sort=True):
        buckets.append(
            PerformanceBucket(
                start=pd.Timestamp(start).to_pydatetime(),
                rows=len(group),
                metrics=_metrics_of(group, config),
            )
        )
    return tuple(buckets)
