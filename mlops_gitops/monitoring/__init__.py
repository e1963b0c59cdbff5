"""Monitoring: data and concept drift, performance drift, health score, alerts.

Owns the ``monitoring:`` section of the environment manifests
(:class:`MonitoringConfig`), reads the server's prediction logs and
feedback (``serving.prediction_log.path``), resolves the reference data of
each deployed version by hash, and writes each run into the environment's
history folder (``monitoring/<env>/``: run JSON and Markdown,
``history.jsonl``, ``state.json``, ``metrics.prom``).

Python API::

    run_monitoring("prod", root=".")                   -> MonitoringRun (writes the history)
    monitor(reference, predictions, feedback, config, window=(start, end)) -> ModelMonitoring
    compute_drift(reference_df, current_df, features, DriftConfig()) -> DriftReport
    infer_schema(df, features) / validate_row(schema, row) / validate_batch(schema, columns)
"""

from __future__ import annotations

from mlops_gitops.monitoring.alerts import AlertOutcome, Delivery, deliver, dispatch, rule_fires
from mlops_gitops.monitoring.channels import (
    CHANNEL_TYPES,
    Alert,
    AlertChannel,
    ChannelContext,
    ChannelError,
    IssueTracker,
    build_channel,
    sign_body,
    verify_signature,
)
from mlops_gitops.monitoring.config import (
    AlertRule,
    ChannelConfig,
    DriftConfig,
    HealthConfig,
    MonitoringConfig,
    MonitoringConfigError,
    load_monitoring_config,
)
from mlops_gitops.monitoring.drift import DriftReport, FeatureDrift, compute_drift
from mlops_gitops.monitoring.health import HealthScore, score_health
from mlops_gitops.monitoring.input_schema import (
    BatchValidation,
    FeatureSchema,
    InputSchema,
    Violation,
    infer_schema,
    validate_batch,
    validate_row,
)
from mlops_gitops.monitoring.run import ModelRun, MonitoringRun, run_monitoring
from mlops_gitops.monitoring.window import (
    ModelMonitoring,
    MonitoringError,
    Reference,
    monitor,
)

__all__ = [
    "CHANNEL_TYPES",
    "Alert",
    "AlertChannel",
    "AlertOutcome",
    "AlertRule",
    "BatchValidation",
    "ChannelConfig",
    "ChannelContext",
    "ChannelError",
    "Delivery",
    "DriftConfig",
    "DriftReport",
    "FeatureDrift",
    "FeatureSchema",
    "HealthConfig",
    "HealthScore",
    "InputSchema",
    "IssueTracker",
    "ModelMonitoring",
    "ModelRun",
    "MonitoringConfig",
    "MonitoringConfigError",
    "MonitoringError",
    "MonitoringRun",
    "Reference",
    "Violation",
    "build_channel",
    "compute_drift",
    "deliver",
    "dispatch",
    "infer_schema",
    "load_monitoring_config",
    "monitor",
    "rule_fires",
    "run_monitoring",
    "score_health",
    "sign_body",
    "validate_batch",
    "validate_row",
    "verify_signature",
]
