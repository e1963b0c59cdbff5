"""The health score: sub-scores, weights, missing indicators, bands and trend."""

from __future__ import annotations

import pytest

from mlops_gitops.monitoring.config import HealthConfig, HealthIndicator
from mlops_gitops.monitoring.health import band_of, health_trend, indicator_score, score_health

CONFIG = HealthConfig(
    indicators=[
        HealthIndicator(name="drift.share", weight=2, good=0.0, bad=0.5),
        HealthIndicator(name="performance.accuracy", weight=1, good=0.9, bad=0.7),
        HealthIndicator(name="ops.error_rate", weight=1, good=0.0, bad=0.1),
    ]
)


def test_sub_score_is_linear_between_good_and_bad_and_clipped() -> None:
    rising = HealthIndicator(name="drift.share", good=0.0, bad=0.5)
    falling = HealthIndicator(name="performance.accuracy", good=0.9, bad=0.7)
    assert indicator_score(rising, 0.25) == 50.0
    assert indicator_score(rising, 2.0) == 0.0 and indicator_score(rising, -1.0) == 100.0
    assert indicator_score(falling, 0.8) == pytest.approx(50.0)
    assert indicator_score(falling, 0.95) == 100.0


def test_score_is_the_weighted_mean_of_measured_indicators() -> None:
    health = score_health({"drift.share": 0.25, "performance.accuracy": 0.9}, CONFIG)
    assert health.score == pytest.approx((2 * 50 + 1 * 100) / 3)
    assert [p.score for p in health.parts] == [50.0, 100.0, None]
    assert health.band == "degraded"


def test_no_measured_indicator_gives_no_score() -> None:
    health = score_health({}, CONFIG)
    assert health.score is None and health.band == "unknown"


def test_bands() -> None:
    assert [band_of(s) for s in (95, 80, 60, 10)] == ["healthy", "healthy", "degraded", "critical"]


def test_trend_over_past_runs() -> None:
    worsening = health_trend([90.0, 80.0, 70.0], 60.0)
    assert worsening.direction == "worsening" and worsening.slope == pytest.approx(-10.0)
    assert worsening.delta == -10.0
    assert health_trend([80.0, 80.5], 80.2).direction == "stable"
    assert health_trend([], 70.0).direction == "unknown"


def test_health_weights_must_name_known_indicators() -> None:
    with pytest.raises(ValueError, match=r"unknown indicator 'drift\.shares'"):
        HealthIndicator(name="drift.shares")
