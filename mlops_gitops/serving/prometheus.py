"""Prometheus metrics of a server, in a registry of its own.

Exposed at ``/metrics``: requests, errors and latency per model, version
and route; input values that violate the training schema per model,
version, column and kind; which versions are loaded; reloads; the
prediction-log queue; the process's CPU time and memory (``process_*``).
Label children are cached so the request path pays one dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase

from mlops_gitops.serving.modelset import ModelSet

LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class ServingMetrics:
    """The metric families of one server."""

    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        r = self.registry
        labels = ("model", "version", "route")
        self.requests = Counter(
            "mlops_requests", "Inference requests answered.", (*labels, "code"), registry=r
        )
        self.errors = Counter(
            "mlops_request_errors",
            "Requests answered with 4xx or 5xx.",
            ("model", "route", "code"),
            registry=r,
        )
        self.latency = Histogram(
            "mlops_request_duration_seconds",
            "Time to answer an inference request.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rows = Counter("mlops_predicted_rows", "Rows scored.", labels, registry=r)
        self.model_info = Gauge(
            "mlops_model_info",
            "Loaded model versions (1 per version).",
            ("model", "version", "md5", "weight"),
            registry=r,
        )
        self.reloads = Counter(
            "mlops_reloads", "Model-set reloads by outcome.", ("outcome",), registry=r
        )
        self.reload_ok = Gauge(
            "mlops_reload_last_success",
            "1 when the last reload succeeded, 0 when it failed.",
            registry=r,
        )
        self.log_dropped = Counter(
            "mlops_prediction_log_dropped",
            "Prediction batches dropped because the log queue was full.",
            ("model",),
            registry=r,
        )
        self.log_depth = Gauge(
            "mlops_prediction_log_queue_depth",
            "Batches waiting for the prediction-log writer.",
            registry=r,
        )
        self.violations = Counter(
            "mlops_input_violations",
            "Request values that violate the training schema, per column and kind.",
            ("model", "version", "column", "kind"),
            registry=r,
        )
        self.reload_ok.set(1)
        ProcessCollector(registry=r)  # CPU seconds, resident memory, open fds of the process
        self._children: dict[tuple[str, ...], tuple[MetricWrapperBase, ...]] = {}

    def observe(self, model: str, version: str, route: str, *, seconds: float, rows: int) -> None:
        """Count one answered (200) inference request."""
        key = (model, version, route)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(model, version, route, "200"),
                self.latency.labels(model, version, route),
                self.rows.labels(model, version, route),
            )
            self._children[key] = children
        count, latency, scored = children
        count.inc()  # type: ignore[attr-defined]  # Counter child
        latency.observe(seconds)  # type: ignore[attr-defined]  # Histogram child
        scored.inc(rows)  # type: ignore[attr-defined]  # Counter child

    def fail(self, model: str, route: str, code: int) -> None:
        """Count one refused or failed request."""
        self.errors.labels(model, route, str(code)).inc()
        self.requests.labels(model, "", route, str(code)).inc()

    def count_violations(
        self, model: str, version: str, counts: Iterable[tuple[tuple[str, str], int]]
    ) -> None:
        """Add a batch's violations per (column, kind) to ``mlops_input_violations_total``."""
        for (column, kind), count in counts:
            self.violations.labels(model, version, column, kind).inc(count)

    def show_models(self, models: ModelSet) -> None:
        """Replace the loaded-model info with the versions of ``models``."""
        self.model_info.clear()
        for served in models.models.values():
            previous = 0.0
            for version, edge in zip(served.order, served.cumulative, strict=True):
                loaded = served.versions[version]
                self.model_info.labels(
                    served.name, version, loaded.md5, f"{edge - previous:g}"
                ).set(1)
                previous = edge

    def render(self, depth: int) -> bytes:
        """Return the exposition text (refreshing the queue depth first)."""
        self.log_depth.set(depth)
        return generate_latest(self.registry)
