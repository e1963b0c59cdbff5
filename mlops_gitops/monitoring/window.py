"""Monitor one model over one window: drift, prediction drift, performance, quality.

:func:`monitor` is a pure function of data frames: the reference of the
deployed version (:class:`Reference`, resolved elsewhere) and the logged
predictions and feedback of the window. It returns a
:class:`ModelMonitoring` with every figure and the flat indicator values
that the health score and the alert rules read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from mlops_gitops.contract import MISSING_CATEGORY
from mlops_gitops.errors import DataError
from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.drift import (
    DriftReport,
    FloatArray,
    category_counts,
    chi2_from_counts,
    compute_drift,
    is_numeric,
    ks_pvalue,
    ks_statistic,
    psi_from_counts,
    psi_numeric,
    sorted_values,
)
from mlops_gitops.monitoring.indicators import collect_indicators
from mlops_gitops.monitoring.input_schema import (
    InputSchema,
    infer_schema,
    violation_masks,
)
from mlops_gitops.monitoring.logs import feature_columns
from mlops_gitops.monitoring.performance import Judged, PerformanceReport, assess_performance
from mlops_gitops.tasks import DEFAULT_TASK, load_task, watch_of

if TYPE_CHECKING:
    import pandas as pd


class MonitoringError(DataError):
    """Live data cannot be compared with the reference."""


@dataclass(frozen=True, kw_only=True)
class Reference:
    """The reference data and test metrics of a deployed model version."""

    model: str
    version: str
    frame: pd.DataFrame
    label: str | None = None
    test_metrics: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    # The served model's contract: task, class names, recorded threshold.
    task: str = DEFAULT_TASK
    classes: tuple[str, ...] = ()
    threshold: float | None = None
    # The model's logged-style ``prediction`` and ``score`` on the reference rows, when scored.
    outputs: pd.DataFrame | None = None

    def judged(self) -> Judged:
        """Return the model feedback is judged for."""
        where = f"{self.model}@{self.version} task"
        task = load_task(self.task, where=where)
        return Judged(task=task, classes=self.classes, threshold=self.threshold)


@dataclass(frozen=True, kw_only=True)
class PredictionDrift:
    """Drift of the model's output: positive rate, class distribution or score distribution."""

    positive_rate: float | None
    reference_positive_rate: float | None
    psi: float | None
    ks: float | None = None
    pvalue: float | None = None
    chi2: float | None = None
    compared_with: Literal["scores", "labels", "predictions", "none"] = "none"


@dataclass(frozen=True, kw_only=True)
class QualityReport:
    """Data quality of the live inputs against the reference schema."""

    rows: int
    missing_rate: float
    missing_by_feature: Mapping[str, float]
    out_of_range_rate: float
    violation_rate: float
    violations: Mapping[str, int]


@dataclass(frozen=True, kw_only=True)
class ModelMonitoring:
    """Everything measured for one model over one window."""

    model: str
    version: str
    window_start: datetime
    window_end: datetime
    rows: int
    status: Literal["ok", "no traffic"]
    reference_source: str = ""
    drift: DriftReport | None = None
    prediction: PredictionDrift | None = None
    performance: PerformanceReport | None = None
    quality: QualityReport | None = None
    indicators: Mapping[str, float] = field(default_factory=dict)


def check_columns(reference: Reference, live_features: Sequence[str], origin: str) -> None:
    """Raise a one-line error when the logged features do not match the reference."""
    missing = [c for c in live_features if c not in reference.frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing[:5])
        raise MonitoringError(
            f"{origin}: logged columns do not match the reference of {reference.model} "
            f"{reference.version}: {names} not in the reference data "
            f"({reference.source or 'frame'}); was the log written by another model version?"
        )


def _check_kinds(
    reference: Reference, live: pd.DataFrame, features: Sequence[str], origin: str
) -> None:
    for name in features:
        ref_numeric = is_numeric(reference.frame[name])
        live_column = live[name]
        if ref_numeric and not is_numeric(live_column) and live_column.notna().any():
            raise MonitoringError(
                f"{origin}: column {name!r} is numeric in the reference but "
                f"{live_column.dtype} in the logs"
            )


def _blank_categories_as_missing(
    reference: Reference, live: pd.DataFrame, features: Sequence[str]
) -> pd.DataFrame:
    # The server logs a missing category as the export contract's empty string.
    text = [n for n in features if not is_numeric(reference.frame[n])]
    if not text:
        return live
    return live.assign(**{n: live[n].mask(live[n] == MISSING_CATEGORY) for n in text})


def monitor(
    reference: Reference,
    predictions: pd.DataFrame,
    feedback: pd.DataFrame,
    config: MonitoringConfig,
    *,
    window: tuple[datetime, datetime],
    origin: str = "prediction log",
) -> ModelMonitoring:
    """Compare one window of logged predictions with the reference of the deployed version."""
    start, end = window
    if predictions.empty:
        return _no_traffic(reference, window)
    features = select_features(feature_columns(predictions), config)
    check_columns(reference, features, origin)
    _check_kinds(reference, predictions, features, origin)
    predictions = _blank_categories_as_missing(reference, predictions, features)
    drift = compute_drift(reference.frame, predictions, features, config.drift)
    judged = reference.judged()
    watch = watch_of(judged.task)
    drift_of = PREDICTION_DRIFT[watch.prediction]
    prediction = drift_of(reference, predictions, config.drift.bins)
    performance = None
    if watch.metrics:
        performance = assess_performance(
            predictions, feedback, reference.test_metrics, config.performance, judged=judged
        )
    schema = infer_schema(reference.frame, features, range_tolerance=config.quality.range_tolerance)
    quality = assess_quality(schema, predictions)
    result = ModelMonitoring(
        model=reference.model,
        version=reference.version,
        window_start=start,
        window_end=end,
        rows=len(predictions),
        status="ok",
        reference_source=reference.source,
        drift=drift,
        prediction=prediction,
        performance=performance,
        quality=quality,
    )
    return _with_indicators(result)


def _no_traffic(reference: Reference, window: tuple[datetime, datetime]) -> ModelMonitoring:
    return ModelMonitoring(
        model=reference.model,
        version=reference.version,
        window_start=window[0],
        window_end=window[1],
        rows=0,
        status="no traffic",
        reference_source=reference.source,
        indicators={"traffic.rows": 0.0},
    )


def _with_indicators(result: ModelMonitoring) -> ModelMonitoring:
    from dataclasses import replace

    return replace(result, indicators=collect_indicators(result))


def select_features(columns: Sequence[str], config: MonitoringConfig) -> list[str]:
    """Return the logged features to monitor after ``drift.features``/``drift.exclude``."""
    chosen = [c for c in columns if not config.drift.features or c in config.drift.features]
    return [c for c in chosen if c not in config.drift.exclude]


def prediction_drift(reference: Reference, live: pd.DataFrame, bins: int) -> PredictionDrift | None:
    """Compare the live predictions with the reference's scores, predictions or labels."""
    if "prediction" not in live.columns:
        return None
    live_pred = live["prediction"].to_numpy(dtype=np.float64, na_value=np.nan)
    positive_rate = float(np.nanmean(live_pred == 1)) if live_pred.size else 0.0
    ref = reference.frame
    if "score" in ref.columns and "score" in live.columns:
        ref_scores, live_scores = sorted_values(ref["score"]), sorted_values(live["score"])
        if ref_scores.size and live_scores.size:
            ref_rate = float(np.mean(ref_scores >= 0.5))
            return PredictionDrift(
                positive_rate=positive_rate,
                reference_positive_rate=ref_rate,
                compared_with="scores",
                **_numeric_drift(ref_scores, live_scores, bins),
            )
    column = "prediction" if "prediction" in ref.columns else reference.label
    if column is None or column not in ref.columns:
        return PredictionDrift(positive_rate=positive_rate, reference_positive_rate=None, psi=None)
    ref_classes = ref[column].to_numpy(dtype=np.float64, na_value=np.nan)
    ref_rate = float(np.nanmean(ref_classes == 1))
    psi = psi_from_counts(
        [np.sum(ref_classes != 1), np.sum(ref_classes == 1)],
        [np.sum(live_pred != 1), np.sum(live_pred == 1)],
    )
    return PredictionDrift(
        positive_rate=positive_rate,
        reference_positive_rate=ref_rate,
        psi=psi,
        compared_with="labels",
    )


def _reference_outputs(reference: Reference, column: str) -> tuple[pd.Series | None, str]:
    """Return the reference's ``column`` (the model's on the reference, else logged or label)."""
    if reference.outputs is not None and column in reference.outputs.columns:
        return reference.outputs[column], "predictions"
    if column in reference.frame.columns:
        return reference.frame[column], "scores" if column == "score" else "predictions"
    if reference.label is not None and reference.label in reference.frame.columns:
        return reference.frame[reference.label], "labels"
    return None, "none"


def class_drift(reference: Reference, live: pd.DataFrame, bins: int) -> PredictionDrift | None:
    """Compare the predicted-class (or cluster) distribution: chi-square and PSI."""
    if "prediction" not in live.columns:
        return None
    ref, compared_with = _reference_outputs(reference, "prediction")
    if ref is None:
        return PredictionDrift(positive_rate=None, reference_positive_rate=None, psi=None)
    ref_counts, live_counts = category_counts(ref, live["prediction"])
    if not ref_counts.sum() or not live_counts.sum():
        return PredictionDrift(positive_rate=None, reference_positive_rate=None, psi=None)
    chi2, pvalue = chi2_from_counts(ref_counts, live_counts)
    return PredictionDrift(
        positive_rate=None,
        reference_positive_rate=None,
        psi=psi_from_counts(ref_counts, live_counts),
        chi2=chi2,
        pvalue=pvalue,
        compared_with=compared_with,  # type: ignore[arg-type]  # a Literal chosen from the watch
    )


def score_drift(reference: Reference, live: pd.DataFrame, bins: int) -> PredictionDrift | None:
    """Compare the distribution of the logged ``score`` (a value, an anomaly score): PSI, KS."""
    if "score" not in live.columns:
        return None
    ref, compared_with = _reference_outputs(reference, "score")
    empty = PredictionDrift(positive_rate=None, reference_positive_rate=None, psi=None)
    if ref is None or not is_numeric(ref):
        return empty
    ref_scores, live_scores = sorted_values(ref), sorted_values(live["score"])
    if not ref_scores.size or not live_scores.size:
        return empty
    return PredictionDrift(
        positive_rate=None,
        reference_positive_rate=None,
        compared_with=compared_with,  # type: ignore[arg-type]  # a Literal chosen from the watch
        **_numeric_drift(ref_scores, live_scores, bins),
    )


def _numeric_drift(ref: FloatArray, live: FloatArray, bins: int) -> dict[str, float]:
    """Return the PSI, KS statistic and p-value of two sorted, non-empty score samples."""
    ks = ks_statistic(ref, live)
    return {
        "psi": psi_numeric(ref, live, bins),
        "ks": ks,
        "pvalue": ks_pvalue(ks, ref.size, live.size),
    }


def assess_quality(schema: InputSchema, live: pd.DataFrame) -> QualityReport:
    """Measure missing values, out-of-range values and schema violations of live inputs."""
    rows = len(live)
    columns = {name: live[name].to_numpy() for name in schema.names if name in live.columns}
    masks = violation_masks(schema, columns)
    any_violation = np.zeros(rows, dtype=bool)
    out_of_range = np.zeros(rows, dtype=bool)
    for (_, kind), mask in masks.items():
        any_violation |= mask
        if kind in ("out_of_range", "unknown_category"):
            out_of_range |= mask
    missing = {n: float(live[n].isna().mean()) for n in schema.names if n in live.columns}
    return QualityReport(
        rows=rows,
        missing_rate=float(np.mean(list(missing.values()))) if missing else 0.0,
        missing_by_feature=missing,
        out_of_range_rate=float(out_of_range.mean()) if rows else 0.0,
        violation_rate=float(any_violation.mean()) if rows else 0.0,
        violations={f"{name}:{kind}": int(m.sum()) for (name, kind), m in masks.items()},
    )


# What prediction drift compares, by the task's ``Watch.prediction``.
PREDICTION_DRIFT = {
    "positive_rate": prediction_drift,
    "classes": class_drift,
    "scores": score_drift,
}
