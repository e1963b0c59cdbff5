"""The mutable state of a running server and its hot reload.

:class:`ServerState` holds the current :class:`ModelSet` behind one
reference. :class:`Reloader` builds a new set in a background thread when
the manifest file changes, on SIGHUP, or on the admin route, and swaps it in
atomically; a failed load keeps the old set and records why (log, metrics,
readiness details). Loading a set includes resolving the training schema of
each version for request validation (:mod:`mlops_gitops.serving.validation`).
Requests in flight keep the set they started with, so a reload never fails a
request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.digest import file_md5
from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.serving.auth import TokenStore
from mlops_gitops.serving.modelset import ModelSet, load_model_set
from mlops_gitops.serving.plan import ServingPlan
from mlops_gitops.serving.predlog import PredictionLog
from mlops_gitops.serving.prometheus import ServingMetrics
from mlops_gitops.serving.validation import SchemaKey, SchemaResolver, add_input_checks

if TYPE_CHECKING:
    from mlops_gitops.monitoring.input_schema import InputSchema

logger = logging.getLogger(__name__)

PlanLoader = Callable[[], ServingPlan]
DEFAULT_MAX_BODY = 1 << 20


@dataclass(frozen=True)
class ReloadOutcome:
    """The result of the latest load: when, whether it worked, and why not."""

    ok: bool
    at: float
    error: str | None = None
    trigger: str = "start"


@dataclass(kw_only=True)
class ServerState:
    """Everything a request handler reads; ``models`` is swapped whole on reload."""

    plan: ServingPlan
    load_plan: PlanLoader
    tokens: TokenStore = field(default_factory=TokenStore)
    metrics: ServingMetrics = field(default_factory=ServingMetrics)
    max_body: int = DEFAULT_MAX_BODY
    threads: int = 1
    models: ModelSet | None = None
    last_reload: ReloadOutcome | None = None
    predictions: PredictionLog | None = None
    # Where the training schema of a version comes from (default: its registration).
    resolve_schema: SchemaResolver | None = None

    def readiness(self) -> dict[str, object]:
        """Return the readiness details served by ``/v2/health/ready``."""
        last = self.last_reload
        details: dict[str, object] = {
            "ready": self.models is not None,
            "env": self.plan.env,
            "auth": "on" if self.tokens.enabled else "off",
            "models": {
                name: list(served.order)
                for name, served in (self.models.models.items() if self.models else ())
            },
        }
        validation = self.plan.settings.validation
        details["validation"] = {
            "enabled": validation.enabled,
            "reject": validation.reject,
            "versions": dict(self.models.validation) if self.models else {},
        }
        if last is not None:
            details["last_reload"] = {
                "ok": last.ok,
                "at": last.at,
                "trigger": last.trigger,
                "error": last.error,
            }
        return details


class Reloader:
    """Loads model sets off the request path and swaps them into a :class:`ServerState`."""

    def __init__(self, state: ServerState, *, watch_interval: float | None = 1.0) -> None:
        self.state = state
        self.watch_interval = watch_interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fingerprint = _fingerprint(state.plan.source)
        self._watcher: threading.Thread | None = None
        self._schemas: dict[SchemaKey, InputSchema] = {}

    def start(self) -> None:
        """Load the first set in the background and start watching the manifest."""
        threading.Thread(
            target=self.reload, args=("start",), name="model-load", daemon=True
        ).start()
        if self.watch_interval is not None and self.state.plan.source is not None:
            self._watcher = threading.Thread(target=self._watch, name="manifest-watch", daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        """Stop watching the manifest."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def request(self, trigger: str) -> None:
        """Reload in a background thread (SIGHUP, file change)."""
        threading.Thread(
            target=self.reload, args=(trigger,), name="model-reload", daemon=True
        ).start()

    def reload(self, trigger: str) -> ReloadOutcome:
        """Load the manifest's model set now and swap it in; keep the old one on failure."""
        with self._lock:  # one load at a time; a queued trigger re-reads the newest manifest
            state = self.state
            self._fingerprint = _fingerprint(state.plan.source)
            try:
                plan = state.load_plan()
                models = load_model_set(plan, threads=state.threads)
                models = add_input_checks(
                    models, plan, resolve=state.resolve_schema, cache=self._schemas
                )
            except MlopsError as exc:
                return self._failed(trigger, format_chain(exc))
            state.plan, state.models = plan, models  # the atomic swap
            state.metrics.show_models(models)
            state.metrics.reloads.labels("ok").inc()
            state.metrics.reload_ok.set(1)
            state.last_reload = ReloadOutcome(True, time.time(), None, trigger)
            logger.info("reload (%s): serving %s", trigger, _summary(models))
            return state.last_reload

    def _failed(self, trigger: str, error: str) -> ReloadOutcome:
        state = self.state
        state.metrics.reloads.labels("failed").inc()
        state.metrics.reload_ok.set(0)
        state.last_reload = ReloadOutcome(False, time.time(), error, trigger)
        kept = _summary(state.models) if state.models else "nothing"
        logger.error("reload (%s) failed, still serving %s: %s", trigger, kept, error)
        return state.last_reload

    def _watch(self) -> None:
        assert self.watch_interval is not None  # start() only watches with an interval
        while not self._stop.wait(self.watch_interval):
            if _fingerprint(self.state.plan.source) != self._fingerprint:
                self.reload("file-change")


def _fingerprint(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return file_md5(path)
    except OSError:
        return None


def _summary(models: ModelSet) -> str:
    return ", ".join(f"{n}@{'+'.join(s.order)}" for n, s in models.models.items()) or "no model"
