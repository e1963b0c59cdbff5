"""Monitoring figures as Prometheus gauges.

:func:`build_registry` puts a run's figures in a ``CollectorRegistry`` (the
server can expose it); :func:`write_gauges` writes them in the textfile
collector format with ``prometheus_client.write_to_textfile``. Gauges:

- ``mlops_monitoring_health_score{env,model}``: the 0-100 score;
- ``mlops_monitoring_indicator{env,model,indicator}``: every indicator value;
- ``mlops_monitoring_alert_firing{env,model,rule,priority}``: 1 per fired rule;
- ``mlops_monitoring_last_run_timestamp_seconds{env}``: when the run happened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops.errors import DependencyMissingError

if TYPE_CHECKING:
    from mlops_gitops.monitoring.run import MonitoringRun


def build_registry(run: MonitoringRun) -> Any:
    """Return a ``prometheus_client.CollectorRegistry`` holding the run's gauges."""
    try:
        from prometheus_client import CollectorRegistry, Gauge
    except ImportError as exc:  # the serve extra is not installed
        raise DependencyMissingError("prometheus-client", "serve") from exc

    registry = CollectorRegistry()
    score = Gauge(
        "mlops_monitoring_health_score",
        "Health score (0-100).",
        ("env", "model"),
        registry=registry,
    )
    value = Gauge(
        "mlops_monitoring_indicator", "Monitoring indicator value.", ("env", "model", "indicator"),
        registry=registry,
    )  # fmt: skip
    firing = Gauge(
        "mlops_monitoring_alert_firing", "1 for each alert rule that fired.",
        ("env", "model", "rule", "priority"), registry=registry,
    )  # fmt: skip
    last = Gauge(
        "mlops_monitoring_last_run_timestamp_seconds", "Time of the last monitoring run.", ("env",),
        registry=registry,
    )  # fmt: skip
    for model in run.models:
        if model.health.score is not None:
            score.labels(run.env, model.key).set(model.health.score)
        for name, number in model.indicators.items():
            value.labels(run.env, model.key, name).set(number)
    for outcome in run.alerts:
        alert = outcome.alert
        firing.labels(run.env, alert.model, alert.rule, alert.priority).set(1)
    last.labels(run.env).set(run.timestamp.timestamp())
    return registry


def write_gauges(run: MonitoringRun, path: Path) -> Path:
    """Write the run's gauges to ``path`` (textfile-collector format, atomic) and return it."""
    from prometheus_client import write_to_textfile

    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), build_registry(run))
    return path
