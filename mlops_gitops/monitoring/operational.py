"""Operational figures of a server: request count, error rate, latency percentiles.

Two sources, configured in ``monitoring.operational``:

- ``metrics_url``: the server's Prometheus ``/metrics``. The request counter
  (``requests_metric``, labelled by ``status_label``) gives the error rate
  (5xx statuses over all requests) and the latency histogram
  (``latency_metric``, seconds) gives percentiles, interpolated linearly
  inside the bucket that holds the rank, as PromQL's
  ``histogram_quantile`` does. Counters are cumulative since the server
  started, not limited to the window.
- ``access_log``: the server's JSON-lines access log (``time`` or
  ``timestamp``, ``status``, ``duration_ms`` or ``latency_ms``), filtered to
  the window; lines without a status are other log records and are skipped;
  percentiles are exact.

Without either the figures are reported as not available.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mlops_gitops.errors import DataError
from mlops_gitops.monitoring.config import OperationalConfig

QUANTILES = (0.5, 0.95, 0.99)


class OperationalError(DataError):
    """The server's metrics or access log cannot be read."""


@dataclass(frozen=True, kw_only=True)
class OperationalFigures:
    """Requests, error rate and latency percentiles (milliseconds) of a server."""

    source: Literal["metrics", "access_log", "not available"]
    requests: int | None = None
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    note: str = ""


NOT_AVAILABLE = OperationalFigures(source="not available")


def read_operational(
    config: OperationalConfig, start: datetime, end: datetime, *, root: Path = Path(".")
) -> OperationalFigures:
    """Return the figures from the configured source, or :data:`NOT_AVAILABLE`."""
    if config.metrics_url:
        return figures_from_metrics(fetch_metrics(config.metrics_url, config.timeout), config)
    if config.access_log:
        return figures_from_access_log(root / config.access_log, start, end)
    return NOT_AVAILABLE


def fetch_metrics(url: str, timeout: float) -> str:
    """Return the text of a Prometheus ``/metrics`` endpoint."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read()).decode("utf-8")
    except (urllib.error.URLError, OSError) as exc:
        raise OperationalError(f"cannot read the server's metrics at {url}") from exc


def _is_error(status: object) -> bool:
    text = str(status)
    return text.isdigit() and int(text) >= 500


def figures_from_metrics(text: str, config: OperationalConfig) -> OperationalFigures:
    """Compute the figures from a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    total = errors = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == config.requests_metric:
                total += sample.value
                errors += sample.value if _is_error(sample.labels.get(config.status_label)) else 0
            elif sample.name == f"{config.latency_metric}_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    quantiles = [histogram_quantile(q, sorted(buckets.items())) for q in QUANTILES]
    return OperationalFigures(
        source="metrics",
        requests=int(total),
        error_rate=errors / total if total else None,
        latency_p50_ms=_ms(quantiles[0]),
        latency_p95_ms=_ms(quantiles[1]),
        latency_p99_ms=_ms(quantiles[2]),
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Return the ``q`` quantile of cumulative ``(upper bound, count)`` buckets."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def figures_from_access_log(path: Path, start: datetime, end: datetime) -> OperationalFigures:
    """Compute the figures from a JSON-lines access log, within ``[start, end)``."""
    if not path.exists():
        raise OperationalError(
            f"{path}: access log not found; fix monitoring.operational.access_log"
        )
    statuses, latencies = [], []
    for status, latency, when in _access_entries(path):
        if start <= when < end:
            statuses.append(status)
            latencies.append(latency)
    if not statuses:
        return OperationalFigures(source="access_log", requests=0)
    p50, p95, p99 = np.percentile(np.asarray(latencies), [q * 100 for q in QUANTILES])
    return OperationalFigures(
        source="access_log",
        requests=len(statuses),
        error_rate=sum(1 for s in statuses if _is_error(s)) / len(statuses),
        latency_p50_ms=float(p50),
        latency_p95_ms=float(p95),
        latency_p99_ms=float(p99),
    )


def _access_entries(path: Path) -> Iterable[tuple[object, float, datetime]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item: dict[str, Any] = json.loads(line)
                if not isinstance(item, dict) or "status" not in item:
                    continue
                latency = float(str(item.get("duration_ms", item.get("latency_ms"))))
                stamp = str(item.get("time", item.get("timestamp")))
                when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                raise OperationalError(
                    f"{path}:{number}: expected JSON with time, status and duration_ms"
                ) from exc
            yield item.get("status"), latency, when if when.tzinfo else when.replace(tzinfo=UTC)
