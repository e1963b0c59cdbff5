"""The inference routes as raw ASGI endpoints: the hot path of the server.

Each request is authorised, routed to a version, decoded against that
version's schema, checked against its training schema, scored, logged and
counted without building Starlette request or response objects
(``bench/serving_bench.py`` measures the difference against the framework
layers it skips).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from mlops_gitops.serving import codec
from mlops_gitops.serving.auth import Role
from mlops_gitops.serving.codec import RequestError
from mlops_gitops.serving.model import Rows, ServingError, VersionSession
from mlops_gitops.serving.modelset import ServedModel
from mlops_gitops.serving.predlog import PredictionBatch
from mlops_gitops.serving.server_state import ServerState
from mlops_gitops.serving.validation import InputCheck, rejection

# Batches at least this large run in a worker thread so the event loop stays free.
THREAD_ROWS = 256
# Request ids: a random per-process prefix and a counter (unique, and cheaper than uuid4).
_ID_PREFIX = secrets.token_hex(6)
_ID_COUNTER = itertools.count(1)
Headers = Mapping[bytes, bytes]


def authorize(state: ServerState, headers: Headers, role: Role) -> None:
    """Raise a 401 or 403 :class:`RequestError` unless the bearer token grants ``role``."""
    allowed = state.tokens.allows(headers.get(b"authorization"), role)
    if allowed is None:
        raise RequestError(
            401, "missing or unknown bearer token; send 'Authorization: Bearer TOKEN'"
        )
    if not allowed:
        raise RequestError(403, f"this token may not use the {role} routes")


def find_served(state: ServerState, name: str) -> ServedModel:
    """Return the served model ``name`` (503 while loading, 404 when unknown)."""
    models = state.models
    if models is None:
        raise RequestError(503, "models are still loading; retry when /v2/health/ready is 200")
    served = models.get(name)
    if served is None:
        raise RequestError(404, f"unknown model '{name}'; GET /v2/health/ready lists the models")
    return served


def pick_version(served: ServedModel, version: str | None, headers: Headers) -> VersionSession:
    """Return the addressed version, or route by the ``x-routing-key`` header."""
    if version is not None:
        try:
            return served.version(version)
        except ServingError as exc:
            raise RequestError(404, str(exc)) from exc
    return served.route(headers.get(b"x-routing-key"))


async def read_body(receive: Receive, headers: Headers, limit: int) -> bytes:
    """Read the request body, refusing more than ``limit`` bytes with a 413."""
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body has {int(declared)} bytes; the limit is {limit}")
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError(400, "the client disconnected before sending the body")
        body += message.get("body", b"")
        if len(body) > limit:
            raise RequestError(413, f"the body exceeds the limit of {limit} bytes")
        more = message.get("more_body", False)
    return body


def request_id(headers: Headers, payload: Mapping[str, Any]) -> str:
    """Return the client's request id (header or body ``id``) or a new one."""
    sent: object = headers.get(b"x-request-id")
    sent = sent.decode("latin-1") if isinstance(sent, bytes) else payload.get("id")
    if isinstance(sent, str) and 0 < len(sent) <= 128 and sent.isprintable():
        return sent
    return f"{_ID_PREFIX}-{next(_ID_COUNTER):x}"


async def send_json(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    """Send a complete JSON response."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


class InferenceEndpoint:
    """POST infer (v2 tensors) or predict (v1 records) for one model: an ASGI app."""

    def __init__(
        self, state: ServerState, route: str, decode: codec.Decoder, encode: codec.Encoder
    ) -> None:
        self.state = state
        self.route = route
        self.decode = decode
        self.encode = encode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Answer one request; return the HTTP status sent."""
        started = time.perf_counter()
        state = self.state
        params = scope["path_params"]
        headers = dict(scope["headers"])
        try:
            authorize(state, headers, "predict")
            model = pick_version(find_served(state, params["name"]), params.get("version"), headers)
            payload = codec.parse_json(await read_body(receive, headers, state.max_body))
            rows = self.decode(payload, model.schema)
            rid = request_id(headers, payload)
            scope["mlops"] = (model.name, model.version, rid)
            if rows.count >= THREAD_ROWS:
                outputs = await run_in_threadpool(self._score, model, rows, payload)
            else:
                outputs = self._score(model, rows, payload)
        except RequestError as exc:
            state.metrics.fail(params.get("name", ""), self.route, exc.status)
            await send_json(send, exc.status, orjson.dumps(exc.body()), [])
            return exc.status
        elapsed = time.perf_counter() - started
        await send_json(send, 200, *self._answer(model, rows, outputs, (rid, elapsed)))
        return 200

    def _score(
        self, model: VersionSession, rows: Rows, payload: Mapping[str, Any]
    ) -> dict[str, np.ndarray]:
        """Check the rows against the version's training schema (if it has one); score them."""
        check = model.input_check
        if check is not None:
            self._validate(model, check, rows, payload)
        return _run(model, rows)

    def _validate(
        self, model: VersionSession, check: InputCheck, rows: Rows, payload: Mapping[str, Any]
    ) -> None:
        """Count the batch's violations of the training schema; refuse it when set to reject."""
        found = check.check(rows)
        if found is None:
            return
        self.state.metrics.count_violations(model.name, model.version, found.counts.items())
        if check.reject:
            raise rejection(found, rows, check=check, route=self.route, payload=payload)

    def _answer(
        self,
        model: VersionSession,
        rows: Rows,
        outputs: dict[str, np.ndarray],
        done: tuple[str, float],
    ) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """Log and count a scored request; return the response body and headers."""
        rid, elapsed = done
        state = self.state
        served = model.schema.serve(outputs)
        if state.predictions is not None:
            stamp = time.time_ns() // 1000
            batch = PredictionBatch(
                model=model.name,
                version=model.version,
                request_id=rid,
                timestamp_us=stamp,
                columns=rows,
                predictions=served.predictions,
                scores=served.scores,
                extra=served.columns,
            )
            state.predictions.record(batch)
        state.metrics.observe(
            model.name, model.version, self.route, seconds=elapsed, rows=rows.count
        )
        served_by = [
            (b"x-model-name", model.name.encode()),
            (b"x-model-version", model.version.encode()),
            (b"x-request-id", rid.encode()),
        ]
        return self.encode(codec.Scored(model=model, served=served, request_id=rid)), served_by


def _run(model: VersionSession, rows: Rows) -> dict[str, np.ndarray]:
    try:
        return model.infer(rows)
    except Exception as exc:  # ORT's own error types: report the model's refusal as a 422
        raise RequestError(422, f"the model refused the input: {str(exc).splitlines()[0]}") from exc


def inference_target(path: str) -> tuple[str, dict[str, str]] | None:
    """Match an inference path: ``("v2" | "v1", path params)``, or None."""
    parts = path.split("/")
    size = len(parts)
    if size < 4 or parts[0] or parts[2] != "models" or not parts[3]:
        return None
    if parts[1] == "v2" and parts[-1] == "infer":
        if size == 5:
            return "v2", {"name": parts[3]}
        if size == 7 and parts[4] == "versions" and parts[5]:
            return "v2", {"name": parts[3], "version": parts[5]}
    elif parts[1] == "v1" and parts[-1].endswith(":predict") and len(parts[-1]) > 8:
        if size == 4:
            return "v1", {"name": parts[3][:-8]}
        if size == 6 and parts[4] == "versions":
            return "v1", {"name": parts[3], "version": parts[5][:-8]}
    return None
