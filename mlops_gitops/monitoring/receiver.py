"""A small local webhook receiver for alerts (demos and tests).

It accepts ``POST`` requests on any path, verifies the
``X-Mlops-Signature`` HMAC when it has a secret (answering 401 when the
signature is missing or wrong), keeps every received alert and hands each
one to an optional callback. ``mlops monitor receiver`` runs it in the
foreground and prints what arrives; with ``--count`` it stops after that
many alerts (``make demo`` waits for the drift alert that way).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlops_gitops.errors import MlopsError
from mlops_gitops.monitoring.channels import SIGNATURE_HEADER, verify_signature


class ReceiverTimeout(MlopsError):
    """The expected alerts did not arrive in time."""


@dataclass(frozen=True)
class ReceivedAlert:
    """One request the receiver accepted or refused."""

    path: str
    body: dict[str, Any]
    signature: str | None
    verified: bool | None


@dataclass(kw_only=True)
class AlertReceiver:
    """A threaded HTTP server on ``host:port`` that collects alert webhooks."""

    host: str = "127.0.0.1"
    port: int = 0
    secret: str | None = None
    on_alert: Callable[[ReceivedAlert], object] | None = None
    fail_with: int | None = None
    received: list[ReceivedAlert] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _arrived: threading.Condition = field(
        default_factory=threading.Condition, init=False, repr=False
    )

    @property
    def url(self) -> str:
        """Return the base URL the receiver listens on."""
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AlertReceiver:
        """Start serving in a background thread and return self."""
        server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def wait(self, count: int | None = None, timeout: float | None = None) -> list[ReceivedAlert]:
        """Block until ``count`` alerts arrived (forever when None) or ``timeout`` seconds passed.

        Raises:
            ReceiverTimeout: ``timeout`` passed before ``count`` alerts arrived.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._arrived:
            while count is None or len(self.received) < count:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise ReceiverTimeout(
                        f"{len(self.received)} of {count} alerts arrived within {timeout:g} s"
                    )
                self._arrived.wait(left if left is not None else 1.0)
        return list(self.received)

    def stop(self) -> None:
        """Stop the background server."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> AlertReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def accept(self, path: str, body: bytes, signature: str | None) -> int:
        """Record one request and return the HTTP status to answer."""
        verified = None if self.secret is None else verify_signature(self.secret, body, signature)
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            payload = {"raw": body.decode("utf-8", "replace")}
        body_map = payload if isinstance(payload, dict) else {"value": payload}
        item = ReceivedAlert(path, body_map, signature, verified)
        if self.on_alert is not None:
            self.on_alert(item)
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()
        if self.fail_with is not None:
            return self.fail_with
        return 401 if verified is False else 200


def _handler_for(receiver: AlertReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver.accept(self.path, body, self.headers.get(SIGNATURE_HEADER))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"ok": status == 200}).encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler
