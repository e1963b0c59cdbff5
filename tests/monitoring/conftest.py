"""Fixtures of the monitoring tests: local receivers for webhooks and mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mlops_gitops.monitoring.receiver import AlertReceiver
from tests.helpers.monitoring import SmtpSink


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    """A webhook receiver on 127.0.0.1 that checks the HMAC with secret 's3cret'."""
    with AlertReceiver(secret="s3cret") as running:
        yield running


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, SmtpSink]]:
    """A real SMTP server on 127.0.0.1; yields its port and the sink of messages."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port: aiosmtpd checks readiness on its own port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()
