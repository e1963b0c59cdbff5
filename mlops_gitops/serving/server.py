"""Run the inference server with uvicorn, and find a running one.

``serve`` reads the environment's manifest, refuses pins that differ from
their registrations (at start and on every reload), builds the app and runs it; the
process records itself in ``.mlops/serve/<env>.json`` (pid, host, port) so
``mlops deploy`` can reload it with SIGHUP. TLS is uvicorn's: pass
``ssl_certfile`` and ``ssl_keyfile`` (``--ssl-certfile``/``--ssl-keyfile``).
With ``workers > 1`` uvicorn forks workers that each build the app from
``MLOPS_SERVE_*`` variables; SIGHUP then makes uvicorn restart them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlops_gitops.errors import ConfigError
from mlops_gitops.serving.auth import read_tokens
from mlops_gitops.serving.plan import (
    RegistryCheck,
    ServingPlan,
    read_plan,
    read_registered_plan,
    restrict_plan,
)
from mlops_gitops.serving.server_state import DEFAULT_MAX_BODY, ServerState

logger = logging.getLogger(__name__)

PID_DIR = ".mlops/serve"


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """How to run the server (everything but the models, which come from the manifest)."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    threads: int = 1
    max_body: int = DEFAULT_MAX_BODY
    token_file: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    access_log: bool = True
    watch_interval: float = 1.0
    only: tuple[str, ...] = ()
    registry_check: RegistryCheck = "required"


@dataclass(frozen=True)
class RunningServer:
    """A local server recorded in its pid file."""

    pid: int
    host: str
    port: int
    env: str

    @property
    def url(self) -> str:
        """Return the base URL of the server."""
        return f"http://{self.host}:{self.port}"


def build_app(root: Path, env: str, options: ServeOptions) -> Any:
    """Build the ASGI app serving ``env``'s manifest under ``root``."""
    from mlops_gitops.serving.app import create_app
    from mlops_gitops.serving.predlog import PredictionLog, open_log_store

    read = read_registered_plan if options.registry_check == "required" else read_plan

    def load_plan() -> ServingPlan:  # at start and on every reload: pins checked each time
        return restrict_plan(read(root, env), options.only)

    plan = load_plan()
    tokens = read_tokens(token_file=Path(options.token_file) if options.token_file else None)
    if not tokens.enabled:
        logger.warning("no token configured: the server accepts anonymous requests")
    state = ServerState(
        plan=plan,
        load_plan=load_plan,
        tokens=tokens,
        max_body=options.max_body,
        threads=options.threads,
    )
    if plan.settings.prediction_log.enabled:  # an unreachable store fails here, before serving
        state.predictions = PredictionLog(
            open_log_store(plan),
            plan.settings.prediction_log,
            on_drop=lambda model: state.metrics.log_dropped.labels(model).inc(),
        )
    return create_app(state, watch_interval=options.watch_interval, access_log=options.access_log)


def app_from_environment() -> Any:
    """Build the app from ``MLOPS_SERVE_*`` variables (uvicorn's factory for workers)."""
    from mlops_gitops.serving.accesslog import start_json_logging

    start_json_logging()
    raw = json.loads(os.environ["MLOPS_SERVE_OPTIONS"])
    options = ServeOptions(**{**raw, "only": tuple(raw.get("only", ()))})
    return build_app(Path(os.environ["MLOPS_SERVE_ROOT"]), os.environ["MLOPS_SERVE_ENV"], options)


def serve(root: str | os.PathLike[str], env: str, options: ServeOptions) -> None:
    """Serve ``env`` until interrupted (blocks).

    Raises:
        ManifestError: the manifest is missing or not valid.
        ConfigError: the token file or TLS files cannot be read.
        StoreError: the prediction-log store is unknown or does not answer.
    """
    from mlops_gitops.serving.accesslog import start_json_logging

    root_path = Path(root).resolve()
    _check_tls(options)
    listener = start_json_logging()
    record = write_pid_file(root_path, RunningServer(os.getpid(), options.host, options.port, env))
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the previous handler;
    # make that handler an exit (not the default kill) so the pid file is removed.
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        _run_uvicorn(root_path, env, options)
    finally:
        signal.signal(signal.SIGTERM, previous)
        record.unlink(missing_ok=True)
        listener.stop()


def _run_uvicorn(root: Path, env: str, options: ServeOptions) -> None:
    import uvicorn

    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "access_log": False,
        "log_config": None,
        "ssl_certfile": options.ssl_certfile,
        "ssl_keyfile": options.ssl_keyfile,
    }
    if options.workers == 1:
        uvicorn.run(build_app(root, env, options), **common)
        return
    os.environ.update(
        MLOPS_SERVE_ROOT=str(root),
        MLOPS_SERVE_ENV=env,
        MLOPS_SERVE_OPTIONS=json.dumps(asdict(options)),
    )
    factory = "mlops_gitops.serving.server:app_from_environment"
    uvicorn.run(factory, factory=True, workers=options.workers, **common)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _check_tls(options: ServeOptions) -> None:
    if bool(options.ssl_certfile) != bool(options.ssl_keyfile):
        raise ConfigError("TLS needs both --ssl-certfile and --ssl-keyfile")
    for name in (options.ssl_certfile, options.ssl_keyfile):
        if name and not Path(name).is_file():
            raise ConfigError(f"{name}: TLS file not found")


def pid_file(root: Path, env: str) -> Path:
    """Return where the local server of ``env`` records itself."""
    return root / PID_DIR / f"{env}.json"


def write_pid_file(root: Path, server: RunningServer) -> Path:
    """Record a running server (atomically)."""
    path = pid_file(root, server.env)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(server)) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def find_running(root: str | os.PathLike[str], env: str) -> RunningServer | None:
    """Return the local server of ``env`` when its pid file names a live process."""
    path = pid_file(Path(root), env)
    try:
        server = RunningServer(**json.loads(path.read_text(encoding="utf-8")))
        os.kill(server.pid, 0)
    except (OSError, ValueError, TypeError):
        return None
    return server


def signal_reload(server: RunningServer) -> None:
    """Ask a running server to reload its manifest (SIGHUP)."""
    os.kill(server.pid, signal.SIGHUP)
