"""The ``monitoring:`` section of an environment manifest (``envs/<env>.yaml``).

:class:`MonitoringConfig` is the pydantic model the manifest plugs in; every
field has a default, so an empty section (or none) means "monitor with the
defaults, send no alerts". Durations are written ``90s``, ``30m``, ``24h``,
``7d`` or ``2w`` (combinations such as ``1h30m`` too).

Example::

    monitoring:
      window: 24h
      reference: train                  # which registered dataset: train | test
      drift: {psi_threshold: 0.2, pvalue: 0.05, decide_by: psi, drift_share: 0.3}
      health:
        indicators:
          - {name: drift.share, weight: 2, good: 0.0, bad: 0.5}
          - {name: performance.accuracy_drop, weight: 2, good: 0.0, bad: 0.1}
          - {name: ops.error_rate, weight: 1, good: 0.0, bad: 0.05}
      alerts:
        - id: data-drift
          indicator: drift.share
          op: ">="
          threshold: 0.3
          priority: P2
          channels: [team-hook]
          cooldown: 6h
      channels:
        team-hook: {type: webhook, url: "https://hooks.example.com/x", secret_env: HOOK_KEY}
      validation: {enabled: true, reject: false}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from mlops_gitops.documents import SECTION, RoundTripLines, validate
from mlops_gitops.errors import ConfigError

if TYPE_CHECKING:
    from mlops_gitops.tasks import Task

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# Indicator names a rule or a health weight may name. A ``*`` stands for a
# feature or metric name; see :mod:`mlops_gitops.monitoring.indicators`.
INDICATOR_PATTERNS = (
    "traffic.rows",
    "drift.share",
    "drift.count",
    "drift.max_psi",
    "drift.feature.*.psi",
    "drift.feature.*.statistic",
    "drift.feature.*.pvalue",
    "prediction.psi",
    "prediction.ks",
    "prediction.positive_rate",
    "prediction.positive_rate_delta",
    "prediction.chi2",
    "prediction.pvalue",
    "performance.labelled_rows",
    "performance.*",
    "quality.missing_rate",
    "quality.out_of_range_rate",
    "quality.violation_rate",
    "ops.requests",
    "ops.error_rate",
    "ops.latency_p50_ms",
    "ops.latency_p95_ms",
    "ops.latency_p99_ms",
    "health.score",
)


class MonitoringConfigError(ConfigError):
    """The ``monitoring:`` section of a manifest is not valid."""


def parse_duration(value: object) -> timedelta:
    """Turn ``'24h'``, ``'1h30m'`` or a number of seconds into a :class:`timedelta`.

    Raises:
        ValueError: the text is not a duration (pydantic reports it with the field path).
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"expected a duration such as '30m', '24h' or '7d', got {value!r}")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """Write a :class:`timedelta` back as ``'1d'``, ``'90m'``, ``'45s'``."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def is_known_indicator(name: str) -> bool:
    """Return whether ``name`` matches one of :data:`INDICATOR_PATTERNS`."""
    for pattern in INDICATOR_PATTERNS:
        regex = re.escape(pattern).replace(r"\*", r"[^\s]+")
        if re.fullmatch(regex, name):
            return True
    return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftConfig(_Strict):
    """How data and prediction drift are measured and decided."""

    bins: int = Field(
        default=10, ge=2, le=100, description="quantile bins of the reference for PSI"
    )
    psi_threshold: float = Field(default=0.2, gt=0, description="a feature drifts when PSI >= this")
    pvalue: float = Field(
        default=0.05, gt=0, lt=1, description="significance of the KS/chi-square tests"
    )
    decide_by: Literal["psi", "test", "either", "both"] = "psi"
    drift_share: float = Field(
        default=0.3, gt=0, le=1, description="dataset drift when this share drifts"
    )
    features: list[str] = Field(default_factory=list, description="only these (default: all)")
    exclude: list[str] = Field(default_factory=list, description="never these")


class PerformanceConfig(_Strict):
    """Concept/performance drift from feedback labels."""

    metrics: list[str] | None = Field(
        default=None,
        description="metric names of the model's task (default: the task's, see watch_of)",
    )
    bucket: Duration = Field(default=timedelta(hours=1), description="time buckets of the trend")
    min_labels: int = Field(
        default=20, ge=1, description="fewer labelled rows: metrics not computed"
    )


class QualityConfig(_Strict):
    """Data quality of live inputs against the reference schema."""

    range_tolerance: float = Field(
        default=0.0, ge=0, description="widen reference ranges by this share"
    )


class OperationalConfig(_Strict):
    """Where the server's error rate and latency come from."""

    metrics_url: str | None = Field(
        default=None, description="the server's Prometheus /metrics URL"
    )
    access_log: str | None = Field(default=None, description="JSON-lines access log of the server")
    requests_metric: str = "mlops_requests_total"
    latency_metric: str = "mlops_request_duration_seconds"
    status_label: str = "code"
    timeout: float = Field(default=5.0, gt=0)


class HealthIndicator(_Strict):
    """One indicator of the health score: its weight and its good/bad values."""

    name: str
    weight: float = Field(default=1.0, gt=0)
    good: float = Field(default=0.0, description="value scoring 100")
    bad: float = Field(default=1.0, description="value scoring 0 (may be below good)")

    @model_validator(mode="after")
    def _check(self) -> HealthIndicator:
        if not is_known_indicator(self.name):
            raise ValueError(f"unknown indicator {self.name!r}")
        if self.good == self.bad:
            raise ValueError("good and bad must differ")
        return self


def _default_indicators() -> list[HealthIndicator]:
    return _indicators_with(None)


def _indicators_with(performance: tuple[str, float] | None) -> list[HealthIndicator]:
    """Return the default health indicators; ``performance`` is the task's (name, bad)."""
    name, bad = performance or ("performance.accuracy_drop", 0.1)
    return [
        HealthIndicator(name="drift.share", weight=2.0, good=0.0, bad=0.5),
        HealthIndicator(name="prediction.psi", weight=1.0, good=0.0, bad=0.25),
        HealthIndicator(name=name, weight=2.0, good=0.0, bad=bad),
        HealthIndicator(name="quality.violation_rate", weight=1.0, good=0.0, bad=0.1),
        HealthIndicator(name="ops.error_rate", weight=1.0, good=0.0, bad=0.05),
    ]


class HealthConfig(_Strict):
    """The indicators and weights of the 0-100 health score."""

    indicators: list[HealthIndicator] = Field(default_factory=_default_indicators)
    trend_runs: int = Field(default=10, ge=2, description="past runs used for the trend")


Priority = Literal["P1", "P2", "P3", "P4"]
Operator = Literal[">", ">=", "<", "<=", "==", "!="]


class AlertRule(_Strict):
    """One alert rule: when ``indicator op threshold`` holds over ``window``."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    indicator: str
    op: Operator = ">="
    threshold: float
    window: Duration | None = Field(default=None, description="default: the section's window")
    priority: Priority = "P3"
    channels: list[str] = Field(default_factory=list)
    cooldown: Duration = timedelta(hours=6)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> AlertRule:
        if not is_known_indicator(self.indicator):
            raise ValueError(f"unknown indicator {self.indicator!r}")
        return self


class ChannelConfig(_Strict):
    """Where an alert goes. Secrets are named by environment variable, never written here."""

    type: str = Field(description="webhook | slack | email | forge_issue | a plug-in name")
    url: str | None = None
    url_env: str | None = Field(default=None, description="read the URL from this variable instead")
    secret_env: str | None = Field(default=None, description="HMAC secret variable (webhook)")
    host: str | None = None
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    sender: str | None = Field(default=None, description="e-mail From address")
    to: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=lambda: ["monitoring"])
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> ChannelConfig:
        needs_url = self.type in ("webhook", "slack")
        if needs_url and not (self.url or self.url_env):
            raise ValueError(f"a {self.type} channel needs 'url' or 'url_env'")
        if self.type == "email" and not (self.host and self.sender and self.to):
            raise ValueError("an email channel needs 'host', 'sender' and 'to'")
        return self


class RetryConfig(_Strict):
    """How often a failing channel is retried, with bounded exponential backoff."""

    attempts: int = Field(default=3, ge=1, le=10)
    backoff: Duration = timedelta(seconds=1)
    max_backoff: Duration = timedelta(seconds=30)


class ValidationConfig(_Strict):
    """Real-time validation of requests in the serving path."""

    enabled: bool = True
    reject: bool = False


class MonitoringConfig(_Strict):
    """The ``monitoring:`` section of an environment manifest."""

    window: Duration = timedelta(hours=24)
    reference: Literal["train", "test"] = "train"
    history: str = Field(
        default="monitoring", description="history folder, per environment below it"
    )
    prometheus_file: str | None = Field(
        default=None, description="default: <history>/<env>/metrics.prom"
    )
    drift: DriftConfig = Field(default_factory=DriftConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    operational: OperationalConfig = Field(default_factory=OperationalConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    alerts: list[AlertRule] = Field(default_factory=list)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)

    @model_validator(mode="after")
    def _check_references(self) -> MonitoringConfig:
        seen: set[str] = set()
        for index, rule in enumerate(self.alerts):
            if rule.id in seen:
                raise ValueError(f"alerts.{index}.id: duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            for name in rule.channels:
                if name not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "none defined"
                    raise ValueError(
                        f"alerts.{index}.channels: unknown channel {name!r} (channels: {known})"
                    )
        return self


def for_task(config: MonitoringConfig, task: Task) -> MonitoringConfig:
    """Return ``config`` with the task's default health indicators and alert rules.

    Only what the manifest leaves unset takes the task's defaults
    (:class:`mlops_gitops.tasks.Watch`): ``health.indicators`` name the task's
    performance indicator (binary ``performance.accuracy_drop``, multiclass
    ``performance.f1_macro_drop``, regression ``performance.rmse_rise``), and
    without ``alerts`` the task's default rules apply (binary: none).
    """
    from mlops_gitops.tasks import watch_of

    watch = watch_of(task)
    update: dict[str, Any] = {}
    if "indicators" not in config.health.model_fields_set:
        indicators = _indicators_with(watch.health)
        if watch.health is None:  # no performance indicator (clustering takes no feedback)
            indicators = [i for i in indicators if not i.name.startswith("performance.")]
        update["health"] = config.health.model_copy(update={"indicators": indicators})
    if "alerts" not in config.model_fields_set and watch.alerts:
        update["alerts"] = [
            AlertRule(id=rule, indicator=indicator, op=op, threshold=threshold)  # type: ignore[arg-type]  # op is one of the rule Literal ops, set in this table
            for rule, indicator, op, threshold in watch.alerts
        ]
    return config.model_copy(update=update) if update else config


def load_monitoring_config(
    data: Mapping[str, Any] | None, origin: str = "monitoring"
) -> MonitoringConfig:
    """Validate a ``monitoring:`` mapping; errors name ``origin`` and the field path.

    When ``data`` is a ruamel round-trip mapping (it keeps line numbers) the
    message names the line too: ``envs/prod.yaml:31 monitoring.alerts.0...``.

    Raises:
        MonitoringConfigError: one line, e.g.
            ``envs/prod.yaml:31 monitoring.alerts.0.priority: input should be 'P1', ...``.
    """
    return validate(
        MonitoringConfig,
        dict(data or {}),
        origin,
        error=MonitoringConfigError,
        lines=RoundTripLines(data),
        prefix=("monitoring",),
        wording=SECTION,
    )
