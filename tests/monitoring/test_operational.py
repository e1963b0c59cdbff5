"""Operational figures from the server's Prometheus metrics or its JSON access log."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlops_gitops.monitoring.config import OperationalConfig
from mlops_gitops.monitoring.operational import (
    OperationalError,
    figures_from_access_log,
    histogram_quantile,
    read_operational,
)
from tests.helpers.monitoring import NOW

METRICS = """\
# TYPE mlops_requests_total counter
mlops_requests_total{model="m",version="v1",route="v2",code="200"} 95
mlops_requests_total{model="m",version="",route="v2",code="422"} 3
mlops_requests_total{model="m",version="",route="v2",code="500"} 2
# TYPE mlops_request_duration_seconds histogram
mlops_request_duration_seconds_bucket{model="m",version="v1",route="v2",le="0.001"} 50
mlops_request_duration_seconds_bucket{model="m",version="v1",route="v2",le="0.01"} 90
mlops_request_duration_seconds_bucket{model="m",version="v1",route="v2",le="0.1"} 95
mlops_request_duration_seconds_bucket{model="m",version="v1",route="v2",le="+Inf"} 95
mlops_request_duration_seconds_count{model="m",version="v1",route="v2"} 95
mlops_request_duration_seconds_sum{model="m",version="v1",route="v2"} 0.4
"""


def test_figures_from_a_real_metrics_endpoint() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(METRICS.encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        figures = read_operational(OperationalConfig(metrics_url=url), NOW, NOW)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert figures.source == "metrics" and figures.requests == 100
    assert figures.error_rate == pytest.approx(0.02)
    assert figures.latency_p50_ms == pytest.approx(0.001 * 1000 * 47.5 / 50)
    assert figures.latency_p95_ms == pytest.approx(10 + 90 * (90.25 - 90) / 5)


def test_histogram_quantile_in_the_infinite_bucket_is_the_last_bound() -> None:
    assert histogram_quantile(0.99, [(0.1, 10.0), (float("inf"), 100.0)]) == 0.1
    assert histogram_quantile(0.5, []) is None


def test_unreachable_metrics_endpoint_is_an_error() -> None:
    with pytest.raises(OperationalError, match="cannot read the server's metrics"):
        read_operational(OperationalConfig(metrics_url="http://127.0.0.1:9/metrics"), NOW, NOW)


def test_no_source_is_not_available() -> None:
    assert read_operational(OperationalConfig(), NOW, NOW).source == "not available"


def test_access_log_figures_within_the_window(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    lines = ['{"time": "2026-01-15T09:00:00+00:00", "level": "info", "message": "started"}']
    for i in range(10):
        when = (NOW - timedelta(minutes=i)).isoformat()
        status = 503 if i == 0 else 200
        lines.append(f'{{"time": "{when}", "status": {status}, "duration_ms": {i + 1}}}')
    lines.append(
        f'{{"time": "{(NOW - timedelta(days=2)).isoformat()}", "status": 500, "duration_ms": 1}}'
    )
    log.write_text("\n".join(lines) + "\n")
    figures = figures_from_access_log(log, NOW - timedelta(hours=1), NOW + timedelta(seconds=1))
    assert figures.requests == 10 and figures.error_rate == pytest.approx(0.1)
    assert figures.latency_p50_ms == pytest.approx(5.5)


def test_malformed_access_log_line_names_the_line(tmp_path: Path) -> None:
    log = tmp_path / "access.jsonl"
    log.write_text('{"time": "x", "status": 200, "duration_ms": 1}\n')
    with pytest.raises(OperationalError, match=r"access.jsonl:1: expected JSON with time, status"):
        figures_from_access_log(log, NOW, NOW)
