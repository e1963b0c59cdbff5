"""The ASGI application: Open Inference Protocol v2 routes over a :class:`ServerState`.

Routes are plain Starlette endpoints, the inference ones raw ASGI apps
(:mod:`mlops_gitops.serving.inference`); there is no request-model
validation layer (``bench/serving_bench.py`` measures what FastAPI's costs
on the hot path): inputs are checked against the model's own schema by
:mod:`mlops_gitops.serving.codec`. Every refusal is a 4xx JSON body
``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mlops_gitops.serving import codec
from mlops_gitops.serving import feedback as feedback_labels
from mlops_gitops.serving.accesslog import AccessLog
from mlops_gitops.serving.auth import Role
from mlops_gitops.serving.codec import RequestError
from mlops_gitops.serving.inference import (
    InferenceEndpoint,
    authorize,
    find_served,
    inference_target,
    pick_version,
    read_body,
)
from mlops_gitops.serving.model import (
    VersionSession,
    describe,
)
from mlops_gitops.serving.modelset import ServedModel
from mlops_gitops.serving.openapi import openapi_document
from mlops_gitops.serving.predlog import PredictionLog, open_log_store
from mlops_gitops.serving.server_state import Reloader, ServerState

logger = logging.getLogger(__name__)

JSON = "application/json"
Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Return a JSON response serialised with orjson."""
    return Response(orjson.dumps(body), status, headers=headers, media_type=JSON)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.serving
    return state


def _headers(request: Request) -> dict[bytes, bytes]:
    return dict(request.scope["headers"])


def _require(request: Request, role: Role) -> None:
    authorize(_state(request), _headers(request), role)


def _served(request: Request) -> ServedModel:
    return find_served(_state(request), request.path_params["name"])


def _pick(request: Request, served: ServedModel) -> VersionSession:
    return pick_version(served, request.path_params.get("version"), _headers(request))


async def _read_body(request: Request, limit: int) -> bytes:
    return await read_body(request.receive, _headers(request), limit)


async def metadata(request: Request) -> Response:
    """Return v2 model metadata: inputs (the schema), outputs and loaded versions."""
    _require(request, "predict")
    served = _served(request)
    model = _pick(request, served)
    body = describe(model)
    body["versions"] = list(served.order)
    body["parameters"] = {**body["parameters"], "strategy": served.strategy}  # type: ignore[dict-item]  # describe returns a dict
    return json_response(body, headers={"x-model-version": model.version})


async def model_ready(request: Request) -> Response:
    """Say whether a model (or one version) is loaded."""
    served = _served(request)
    model = _pick(request, served)
    return json_response({"name": served.name, "version": model.version, "ready": True})


async def live(request: Request) -> Response:
    """Liveness: the process answers."""
    return json_response({"live": True})


async def ready(request: Request) -> Response:
    """Readiness: a model set is loaded; the body details the last reload."""
    details = _state(request).readiness()
    return json_response(details, 200 if details["ready"] else 503)


async def server_metadata(request: Request) -> Response:
    """Return v2 server metadata."""
    from mlops_gitops import __version__

    return json_response({"name": "mlops-gitops", "version": __version__, "extensions": []})


async def feedback(request: Request) -> Response:
    """Record ground-truth labels for earlier requests (one object or a list)."""
    _require(request, "predict")
    state = _state(request)
    served = _served(request)
    payload: object = orjson.loads(await _read_body(request, state.max_body) or b"null")
    labels = feedback_labels.check_feedback(
        feedback_labels.decode_feedback(payload), served.primary.schema, model=served.name
    )
    if state.predictions is None:
        raise RequestError(
            409, "prediction logging is off in this environment; enable serving.prediction_log"
        )
    for request_id, label in labels:
        state.predictions.record_feedback(served.name, request_id, label)
    return json_response({"recorded": len(labels)})


async def reload(request: Request) -> Response:
    """Reload the manifest's model set now (admin); 409 when it failed and the old set stays."""
    _require(request, "admin")
    reloader: Reloader = request.app.state.reloader
    outcome = await run_in_threadpool(reloader.reload, "admin")
    body = {
        "ok": outcome.ok,
        "error": outcome.error,
        "models": _state(request).readiness()["models"],
    }
    return json_response(body, 200 if outcome.ok else 409)


async def status(request: Request) -> Response:
    """Return readiness details plus prediction-log counters (admin)."""
    _require(request, "admin")
    state = _state(request)
    log = state.predictions
    body = {
        **state.readiness(),
        "prediction_log": None
        if log is None
        else {
            "path": str(log.root),
            "queued": log.depth(),
            "dropped": log.dropped,
            "written_rows": log.written_rows,
        },
    }
    return json_response(body)


async def metrics(request: Request) -> Response:
    """Prometheus exposition of the server's metrics."""
    state = _state(request)
    depth = state.predictions.depth() if state.predictions else 0
    return Response(
        state.metrics.render(depth), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


async def openapi(request: Request) -> Response:
    """The OpenAPI description of the served routes and models."""
    return json_response(openapi_document(_state(request)))


def _guard(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except RequestError as exc:
            return json_response(exc.body(), exc.status)
        except orjson.JSONDecodeError as exc:
            return json_response({"error": f"the body is not valid JSON: {exc}"}, 400)

    return guarded


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    return json_response(
        {"error": f"{request.method} {request.url.path}: {exc.detail}"}, exc.status_code
    )


def routes(v2: InferenceEndpoint, v1: InferenceEndpoint) -> list[Route]:
    """Return the routes of the server."""
    g = _guard
    return [
        Route("/v2/models/{name}/infer", v2, methods=["POST"]),
        Route("/v1/models/{name}:predict", v1, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", v2, methods=["POST"]),
        Route("/v1/models/{name}/versions/{version}:predict", v1, methods=["POST"]),
        Route("/v2/health/live", live),
        Route("/v2/health/ready", ready),
        Route("/v2", server_metadata),
        Route("/v2/models/{name}", g(metadata)),
        Route("/v2/models/{name}/versions/{version}", g(metadata)),
        Route("/v2/models/{name}/ready", g(model_ready)),
        Route("/v2/models/{name}/versions/{version}/ready", g(model_ready)),
        Route("/v2/models/{name}/feedback", g(feedback), methods=["POST"]),
        Route("/admin/reload", g(reload), methods=["POST"]),
        Route("/admin/status", g(status)),
        Route("/metrics", metrics),
        Route("/openapi.json", openapi),
    ]


def create_app(
    state: ServerState, *, watch_interval: float | None = 1.0, access_log: bool = True
) -> Any:
    """Build the ASGI app for ``state``; models load in the background when it starts."""
    reloader = Reloader(state, watch_interval=watch_interval)
    access: AccessLog | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if state.plan.settings.prediction_log.enabled and state.predictions is None:
            state.predictions = PredictionLog(
                open_log_store(state.plan),
                state.plan.settings.prediction_log,
                on_drop=lambda model: state.metrics.log_dropped.labels(model).inc(),
            )
        reloader.start()
        _on_sighup(reloader)
        try:
            yield
        finally:
            reloader.stop()
            if state.predictions is not None:
                state.predictions.close()
            if access is not None:
                access.close()

    endpoints = {
        "v2": InferenceEndpoint(state, "v2", codec.decode_v2, codec.encode_v2),
        "v1": InferenceEndpoint(state, "v1", codec.decode_records, codec.encode_records),
    }
    app = Starlette(
        routes=routes(endpoints["v2"], endpoints["v1"]),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    app.state.serving = state
    app.state.reloader = reloader
    access = AccessLog(app) if access_log else None
    return ServingApp(access or app, endpoints, access)


class ServingApp:
    """The server's ASGI entry: inference POSTs go straight to their endpoint.

    Everything else (and a GET on an inference path, answered 405) goes
    through Starlette; the inference path skips its router and middleware
    layers, the costliest part of a single-row request after the model.
    """

    def __init__(
        self, app: Any, endpoints: dict[str, InferenceEndpoint], access: AccessLog | None
    ) -> None:
        self.app = app
        self.endpoints = endpoints
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            target = inference_target(scope["path"])
            if target is not None:
                started = time.perf_counter()
                scope["path_params"] = target[1]
                status = await self.endpoints[target[0]](scope, receive, send)
                if self.access is not None:
                    self.access.record(scope, status, started)
                return
        await self.app(scope, receive, send)


def _on_sighup(reloader: Reloader) -> None:
    import asyncio
    import threading

    if threading.current_thread() is threading.main_thread():
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloader.request, "sighup")
