"""Structured JSON logs: one access-log line per request, written off the event loop.

Access lines carry time, method, path, status, duration, request id, model
and version, never headers (so never a token). Records go through a queue to
a listener thread, so formatting and I/O stay off the request path.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "mlops_gitops.serving.access"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "access", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class _DeferredQueueHandler(logging.handlers.QueueHandler):
    """A queue handler that leaves formatting to the listener thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def start_json_logging(level: int = logging.INFO) -> logging.handlers.QueueListener:
    """Send the toolkit's and uvicorn's logs as JSON lines to stderr through a queue."""
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler()
    stream.setFormatter(JsonFormatter())
    listener = logging.handlers.QueueListener(records, stream, respect_handler_level=False)
    handler = _DeferredQueueHandler(records)
    for name in ("mlops_gitops", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
    listener.start()
    return listener


class AccessLog:
    """ASGI middleware that logs one JSON line per HTTP request.

    The request path only appends the line's fields to a bounded deque; a
    background thread turns them into log records every 0.1 s, so neither
    record creation nor I/O nor a thread switch lands on the request path.
    """

    def __init__(self, app: ASGIApp, *, max_pending: int = 100_000) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self.dropped = 0
        self._max_pending = max_pending
        self._pending: deque[tuple[float, dict[str, Any]]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.record(scope, status, start)

    def record(self, scope: Scope, status: int, started: float) -> None:
        """Queue the access line of a finished request (``started``: its perf_counter)."""
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
            self._thread.start()
        fields = {
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "client": (scope.get("client") or ("", 0))[0],
            **dict(zip(("model", "version", "request_id"), scope.get("mlops", ()), strict=False)),
        }
        self._pending.append((time.time(), fields))

    def close(self) -> None:
        """Emit the pending lines and stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._emit()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._emit()

    def _emit(self) -> None:
        while self._pending:
            created, fields = self._pending.popleft()
            record = self.logger.makeRecord(
                self.logger.name,
                logging.INFO,
                __file__,
                0,
                "access",
                (),
                None,
                extra={"access": fields},
            )
            record.created = created
            self.logger.handle(record)
