"""The 0-100 health score of a deployed model and its trend over past runs.

**Scoring.** Each indicator ``i`` of ``monitoring.health.indicators`` has a
weight ``w_i``, a value ``good_i`` that scores 100 and a value ``bad_i``
that scores 0 (``bad`` may be above or below ``good``). Its sub-score is
linear in between and clipped outside::

    s_i = 100 * clip((bad_i - v_i) / (bad_i - good_i), 0, 1)

The health score is the weighted mean over the indicators that were
measured in this run (an indicator without a value, say a performance drop
before any label arrived, is left out and the other weights renormalise)::

    score = sum(w_i * s_i) / sum(w_i)

No measured indicator gives no score. Bands: ``healthy`` (>= 80),
``degraded`` (>= 50), ``critical`` (< 50).

**Trend.** The scores of the last ``health.trend_runs`` runs of the
environment's history plus this one: ``delta`` is the change from the
previous run and ``slope`` the least-squares slope in points per run;
``|slope| < 1`` is ``stable``, otherwise ``improving`` or ``worsening``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlops_gitops.monitoring.config import HealthConfig, HealthIndicator

Band = Literal["healthy", "degraded", "critical", "unknown"]
Direction = Literal["improving", "stable", "worsening", "unknown"]


@dataclass(frozen=True)
class IndicatorScore:
    """The sub-score of one indicator of the health score."""

    name: str
    value: float | None
    weight: float
    score: float | None


@dataclass(frozen=True)
class HealthTrend:
    """How the health score moved over past runs."""

    scores: tuple[float, ...]
    delta: float | None
    slope: float | None
    direction: Direction


@dataclass(frozen=True)
class HealthScore:
    """The health score of one model, its parts and its trend."""

    score: float | None
    band: Band
    parts: tuple[IndicatorScore, ...]
    trend: HealthTrend | None = None


def indicator_score(indicator: HealthIndicator, value: float) -> float:
    """Return the 0-100 sub-score of ``value`` for ``indicator``."""
    share = (indicator.bad - value) / (indicator.bad - indicator.good)
    return float(100.0 * min(max(share, 0.0), 1.0))


def band_of(score: float | None) -> Band:
    """Return the band of a score."""
    if score is None:
        return "unknown"
    return "healthy" if score >= 80 else "degraded" if score >= 50 else "critical"


def score_health(indicators: Mapping[str, float], config: HealthConfig) -> HealthScore:
    """Compute the health score of one model's indicators."""
    parts = []
    for item in config.indicators:
        value = indicators.get(item.name)
        score = None if value is None else indicator_score(item, value)
        parts.append(IndicatorScore(item.name, value, item.weight, score))
    measured = [p for p in parts if p.score is not None]
    total = sum(p.weight for p in measured)
    score = sum(p.weight * (p.score or 0.0) for p in measured) / total if measured else None
    return HealthScore(score=score, band=band_of(score), parts=tuple(parts))


def health_trend(past: Sequence[float], current: float | None) -> HealthTrend:
    """Return the trend of ``past`` scores (oldest first) followed by ``current``."""
    scores = tuple([*past, *([] if current is None else [current])])
    if len(scores) < 2:
        return HealthTrend(scores, None, None, "unknown")
    slope = float(np.polyfit(np.arange(len(scores)), np.asarray(scores), 1)[0])
    direction: Direction = (
        "stable" if abs(slope) < 1.0 else "improving" if slope > 0 else "worsening"
    )
    return HealthTrend(scores, scores[-1] - scores[-2], slope, direction)
