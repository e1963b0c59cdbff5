"""Concept and performance drift: live metrics from feedback labels vs test metrics.

Feedback labels are joined to the logged predictions by ``request_id``. Over
the labelled rows of the window the model's task computes its monitoring
metrics (:func:`mlops_gitops.tasks.watch_of`; the binary task adds ``brier``
to its evaluation metrics): decisions are taken from the logged scores with
the threshold recorded in the model (``proba:<class>`` columns for a
multiclass model, ``score`` otherwise). They are compared with the metrics of
the version's own test set: ``performance.<metric>_drop = test - live`` where
higher is better and ``live - test`` where lower is better, so a positive
drop is always a degradation; where lower is better
``performance.<metric>_rise = (live - test) / |test|`` is the relative rise
too (scale-free: a regression's ``rmse_rise`` of 0.25 is 25% worse). The same
metrics per ``performance.bucket`` of time give the trend inside the window.
Below ``performance.min_labels`` labelled rows no metric is reported; a
metric undefined on the rows (ROC AUC of one class) is absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mlops_gitops.monitoring.config import MonitoringConfigError, PerformanceConfig
from mlops_gitops.monitoring.logs import PROBA
from mlops_gitops.tasks import DEFAULT_TASK, DEFAULT_THRESHOLD, Metric, Task, load_task, watch_of

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, kw_only=True)
class Judged:
    """The model a window's feedback is judged for: its task, class names and threshold."""

    task: Task
    classes: tuple[str, ...] = ()
    threshold: float | None = None


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
    rises: Mapping[str, float] = field(default_factory=dict)
    buckets: tuple[PerformanceBucket, ...] = ()
    label_rate: float | None = None
    note: str = ""


def chosen_metrics(judged: Judged, config: PerformanceConfig) -> tuple[Metric, ...]:
    """Return the metrics of ``monitoring.performance.metrics`` (default: the task's).

    Raises:
        MonitoringConfigError: a name is not a monitoring metric of the task.
    """
    watch = watch_of(judged.task)
    known = {metric.name: metric for metric in watch.metrics}
    names = config.metrics if config.metrics is not None else list(watch.defaults)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise MonitoringConfigError(
            f"monitoring.performance.metrics: {', '.join(map(repr, unknown))} is not a metric "
            f"of task {judged.task.name} (known: {', '.join(known) or 'none'})"
        )
    return tuple(known[name] for name in names)


def logged_scores(frame: pd.DataFrame, classes: Sequence[str]) -> npt.NDArray[np.float64]:
    """Return the scores a task decides on: the ``proba:<class>`` matrix, else ``score``."""
    columns = [f"{PROBA}{name}" for name in classes]
    if classes and all(c in frame.columns for c in columns):
        matrix: npt.NDArray[np.float64] = frame[columns].to_numpy(dtype=np.float64)
        return matrix
    scores: npt.NDArray[np.float64] = frame["score"].to_numpy(dtype=np.float64)
    return scores


def task_metrics(
    frame: pd.DataFrame, judged: Judged, metrics: Sequence[Metric]
) -> dict[str, float]:
    """Return ``metrics`` of the labelled rows (encoded ``label``), undefined ones left out."""
    labels = frame["label"].to_numpy()
    scores = logged_scores(frame, judged.classes)
    threshold = DEFAULT_THRESHOLD if judged.threshold is None else judged.threshold
    decided = judged.task.decide(scores, threshold=threshold)
    values = {m.name: float(m.compute(labels, scores, decided)) for m in metrics}
    return {name: value for name, value in values.items() if np.isfinite(value)}


def metric_drops(
    live: Mapping[str, float], test: Mapping[str, float], metrics: Sequence[Metric]
) -> tuple[dict[str, float], dict[str, float]]:
    """Return each shared metric's drop (positive degrades) and, lower-is-better, its rise."""
    drops, rises = {}, {}
    for metric in metrics:
        name = metric.name
        if name not in live or name not in test or metric.direction == "neutral":
            continue
        if metric.direction == "maximize":
            drops[name] = test[name] - live[name]
            continue
        drops[name] = live[name] - test[name]
        if test[name] != 0:
            rises[name] = (live[name] - test[name]) / abs(test[name])
    return drops, rises


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
    *,
    judged: Judged | None = None,
) -> PerformanceReport:
    """Compute live metrics over the labelled predictions and compare them with the test set."""
    config = config or PerformanceConfig()
    judged = judged or Judged(task=load_task(DEFAULT_TASK))
    metrics = chosen_metrics(judged, config)
    labelled = join_feedback(predictions, feedback)
    rows = len(labelled)
    if rows < config.min_labels:
        return PerformanceReport(
            labelled_rows=rows,
            test_metrics=dict(test_metrics),
            note=f"{rows} labelled rows, fewer than performance.min_labels={config.min_labels}",
        )
    live = task_metrics(labelled, judged, metrics)
    drops, rises = metric_drops(live, test_metrics, metrics)
    threshold = DEFAULT_THRESHOLD if judged.threshold is None else judged.threshold
    rates = judged.task.rates(
        labelled["label"].to_numpy(), logged_scores(labelled, judged.classes), threshold=threshold
    )
    return PerformanceReport(
        labelled_rows=rows,
        metrics=live,
        test_metrics=dict(test_metrics),
        drops=drops,
        rises=rises,
        buckets=_buckets(labelled, judged, metrics, config),
        label_rate=rates.get("base_rate"),
    )


def _buckets(
    frame: pd.DataFrame, judged: Judged, metrics: Sequence[Metric], config: PerformanceConfig
) -> tuple[PerformanceBucket, ...]:
    import pandas as pd

    seconds = int(config.bucket.total_seconds())
    starts = frame["timestamp"].dt.floor(pd.Timedelta(seconds=seconds))
    buckets = []
    for start, group in frame.groupby(starts, sort=True):
        buckets.append(
            PerformanceBucket(
                start=pd.Timestamp(start).to_pydatetime(),
                rows=len(group),
                metrics=task_metrics(group, judged, metrics),
            )
        )
    return tuple(buckets)
