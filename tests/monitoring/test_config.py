"""The monitoring section of a manifest: defaults, durations, field-path errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mlops_gitops.monitoring.config import (
    MonitoringConfig,
    MonitoringConfigError,
    format_duration,
    is_known_indicator,
    load_monitoring_config,
    parse_duration,
)


def test_empty_section_gives_the_documented_defaults() -> None:
    config = load_monitoring_config(None)
    assert config.window == timedelta(hours=24)
    assert config.drift.psi_threshold == 0.2
    assert config.alerts == [] and config.channels == {}
    assert config.validation.enabled and not config.validation.reject


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("1h30m", 5400), ("2w", 1209600)],
)
def test_durations_parse_and_format_back(text: str, seconds: int) -> None:
    value = parse_duration(text)
    assert value.total_seconds() == seconds
    assert parse_duration(format_duration(value)) == value


def test_full_section_validates() -> None:
    config = load_monitoring_config(
        {
            "window": "12h",
            "alerts": [
                {"id": "drift", "indicator": "drift.feature.income.psi", "threshold": 0.2,
                 "op": ">", "priority": "P1", "channels": ["hook"], "window": "1h"},
            ],
            "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:1/x"}},
        }
    )  # fmt: skip
    assert config.alerts[0].window == timedelta(hours=1)
    assert config.model_dump(mode="json")["window"] == "12h"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"window": "tomorrow"}, "envs/prod.yaml monitoring.window: expected a duration"),
        (
            {"alerts": [{"id": "a", "indicator": "drift.share", "threshold": 1, "priority": "P5"}]},
            "envs/prod.yaml monitoring.alerts.0.priority: input should be 'P1', 'P2', 'P3' or 'P4'",
        ),
        (
            {"alerts": [{"id": "a", "indicator": "drift.sharre", "threshold": 1}]},
            "monitoring.alerts.0: unknown indicator 'drift.sharre'",
        ),
        (
            {
                "alerts": [
                    {"id": "a", "indicator": "drift.share", "threshold": 1, "channels": ["x"]}
                ]
            },
            "alerts.0.channels: unknown channel 'x' (channels: none defined)",
        ),
        (
            {"channels": {"hook": {"type": "webhook"}}},
            "monitoring.channels.hook: a webhook channel needs",
        ),
        (
            {"drift": {"bins": 1}},
            "monitoring.drift.bins: input should be greater than or equal to 2",
        ),
        ({"drfit": {}}, "monitoring.drfit: extra inputs are not permitted"),
    ],
)
def test_invalid_section_gives_one_line_with_field_path(
    section: dict[str, object], message: str
) -> None:
    with pytest.raises(MonitoringConfigError) as caught:
        load_monitoring_config(section, origin="envs/prod.yaml")
    text = str(caught.value)
    assert message in text
    assert "\n" not in text and not text.endswith(".")


def test_duplicate_rule_ids_are_refused() -> None:
    rule = {"id": "a", "indicator": "drift.share", "threshold": 1}
    with pytest.raises(MonitoringConfigError, match="duplicate rule id 'a'"):
        load_monitoring_config({"alerts": [rule, rule]})


def test_indicator_patterns_accept_features_and_metrics() -> None:
    assert is_known_indicator("drift.feature.age_band.pvalue")
    assert is_known_indicator("performance.roc_auc_drop")
    assert not is_known_indicator("drift.feature.psi")
    assert MonitoringConfig().health.indicators[0].name == "drift.share"
