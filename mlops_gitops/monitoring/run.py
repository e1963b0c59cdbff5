"""One monitoring run of an environment: every deployed version, health, alerts, history.

:func:`run_monitoring` reads the environment's manifest, resolves the
reference data of each running version, reads the window's prediction logs
and feedback, computes drift, performance, quality and operational figures,
scores health (with the trend from the history), fires and delivers alerts,
and writes the run into the environment's monitoring history.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlops_gitops.logstore import Location, log_location
from mlops_gitops.monitoring.alerts import AlertOutcome, FiredRule, dispatch, evaluate_rules
from mlops_gitops.monitoring.channels import ChannelContext
from mlops_gitops.monitoring.config import (
    AlertRule,
    MonitoringConfig,
    for_task,
    format_duration,
    load_monitoring_config,
)
from mlops_gitops.monitoring.health import HealthScore, health_trend, score_health
from mlops_gitops.monitoring.history import (
    RunPaths,
    past_scores,
    read_history,
    read_state,
    run_paths,
    write_run,
)
from mlops_gitops.monitoring.indicators import operational_indicators
from mlops_gitops.monitoring.logs import read_feedback, read_predictions
from mlops_gitops.monitoring.operational import (
    OperationalError,
    OperationalFigures,
    read_operational,
)
from mlops_gitops.monitoring.window import ModelMonitoring, Reference, monitor

if TYPE_CHECKING:
    from mlops_gitops.manifests import Manifest

log = logging.getLogger(__name__)

ReferenceResolver = Callable[[Path, str, str, MonitoringConfig], Reference]
RunStatus = Literal["ok", "no traffic", "no models", "alerting", "delivery failed"]


@dataclass(frozen=True)
class RunningVersion:
    """One model version running in the environment, and its key in the history."""

    model: str
    version: str
    key: str


@dataclass(frozen=True)
class ModelRun:
    """One version's monitoring result, health score and indicator values."""

    key: str
    result: ModelMonitoring
    health: HealthScore
    indicators: Mapping[str, float]


@dataclass(frozen=True, kw_only=True)
class MonitoringRun:
    """Everything one monitoring run of an environment measured, fired and wrote."""

    env: str
    timestamp: datetime
    window: str
    models: tuple[ModelRun, ...]
    operational: OperationalFigures
    alerts: tuple[AlertOutcome, ...] = ()
    files: tuple[Path, ...] = field(default=(), compare=False)

    @property
    def score(self) -> float | None:
        """Return the lowest health score of the environment's versions."""
        scores = [m.health.score for m in self.models if m.health.score is not None]
        return min(scores) if scores else None

    @property
    def status(self) -> RunStatus:
        """Return the one-word outcome of the run."""
        if any(a.failed for a in self.alerts):
            return "delivery failed"
        if self.alerts:
            return "alerting"
        if not self.models:
            return "no models"
        if all(m.result.status == "no traffic" for m in self.models):
            return "no traffic"
        return "ok"


def targets_of(manifest: Manifest) -> list[RunningVersion]:
    """Return every version that receives traffic, keyed by model (stable) or model@version."""
    targets = []
    for model, deployment in sorted(manifest.models.items()):
        for index, version in enumerate(dict.fromkeys(deployment.running_versions())):
            targets.append(
                RunningVersion(model, version, model if index == 0 else f"{model}@{version}")
            )
    return targets


def run_monitoring(
    env: str,
    *,
    root: Path = Path("."),
    window: timedelta | None = None,
    now: datetime | None = None,
    resolve: ReferenceResolver | None = None,
    context: ChannelContext | None = None,
    sleep: Callable[[float], object] = time.sleep,
    write: bool = True,
) -> MonitoringRun:
    """Monitor every version running in ``env`` and record the run in its history."""
    from mlops_gitops.manifests import read_environment

    manifest = read_environment(root, env)
    config = load_monitoring_config(_section_with_lines(root, env), origin=f"envs/{env}.yaml")
    if window is not None:
        config = config.model_copy(update={"window": window})
    now = now or datetime.now(UTC)
    resolve = resolve or _default_resolver()
    context = context or _default_context(root)
    paths = run_paths(root, config.history, env, now)
    session = _Session(
        root, env, config, now=now, logs=log_location(manifest, env, root=root), resolve=resolve
    )
    models = [session.model_run(t, read_history(paths.history)) for t in targets_of(manifest)]
    fired = session.fired_rules(models)
    state = read_state(paths.state)
    report_link = paths.json.relative_to(paths.folder).as_posix()
    outcomes = dispatch(
        fired,
        state,
        config=config,
        env=env,
        now=now,
        context=context,
        sleep=sleep,
        report=report_link,
    )
    run = MonitoringRun(
        env=env,
        timestamp=now,
        window=format_duration(config.window),
        models=tuple(models),
        operational=session.operational(config.window),
        alerts=tuple(outcomes),
    )
    if not write:
        return run
    prom = root / config.prometheus_file if config.prometheus_file else paths.prometheus
    return replace(run, files=tuple(_write(run, paths, state, prom)))


@dataclass(frozen=True)
class ForgeIssues:
    """Open alert issues on the repository's forge (``MLOPS_FORGE``), opened on first use."""

    root: Path
    environ: Mapping[str, str]

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        """Open an issue through the forge backend, if it can open issues."""
        from mlops_gitops.forge import open_forge
        from mlops_gitops.monitoring.channels import ChannelError

        forge = open_forge(root=self.root, env=self.environ)
        opener = getattr(forge, "open_issue", None)
        if opener is None:
            raise ChannelError(f"the {type(forge).__name__} backend cannot open issues")
        return str(opener(title, body, labels))


def _default_context(root: Path) -> ChannelContext:
    environ = dict(os.environ)
    return ChannelContext(environ=environ, forge=ForgeIssues(root, environ))


def _section_with_lines(root: Path, env: str) -> Any:
    """Return the manifest's ``monitoring:`` section as read by ruamel (it keeps line numbers)."""
    from mlops_gitops.manifests import ManifestError
    from mlops_gitops.roundtrip import load_roundtrip

    document = load_roundtrip(root / "envs" / f"{env}.yaml", error=ManifestError)
    return (document or {}).get("monitoring") or {}


def _default_resolver() -> ReferenceResolver:
    from mlops_gitops.monitoring.reference import resolve_reference

    resolver: ReferenceResolver = resolve_reference
    return resolver


def _write(run: MonitoringRun, paths: RunPaths, state: Mapping[str, Any], prom: Path) -> list[Path]:
    from mlops_gitops.monitoring.gauges import write_gauges
    from mlops_gitops.monitoring.markdown import render_markdown, summarise

    files = write_run(
        paths, report=run, markdown=render_markdown(run), summary=summarise(run, paths), state=state
    )
    files.append(write_gauges(run, prom))
    return files


class _Session:
    """The shared inputs of one run: caches references and operational figures."""

    def __init__(
        self,
        root: Path,
        env: str,
        config: MonitoringConfig,
        *,
        now: datetime,
        logs: Location,
        resolve: ReferenceResolver,
    ) -> None:
        self.root, self.env, self.config, self.now, self.logs = root, env, config, now, logs
        self.resolve = resolve
        self._references: dict[tuple[str, str], Reference] = {}
        self._ops: dict[timedelta, OperationalFigures] = {}

    def reference(self, target: RunningVersion) -> Reference:
        key = (target.model, target.version)
        if key not in self._references:
            self._references[key] = self.resolve(
                self.root, target.model, target.version, self.config
            )
        return self._references[key]

    def operational(self, window: timedelta) -> OperationalFigures:
        if window not in self._ops:
            try:
                figures = read_operational(
                    self.config.operational, self.now - window, self.now, root=self.root
                )
            except OperationalError as exc:
                log.warning("operational figures not available: %s", exc)
                figures = OperationalFigures(source="not available", note=str(exc))
            self._ops[window] = figures
        return self._ops[window]

    def measure(self, target: RunningVersion, window: timedelta) -> ModelMonitoring:
        folder = self.logs.child(target.model)
        start = self.now - window
        predictions = read_predictions(folder, start, self.now)
        if not predictions.empty and "version" in predictions.columns:
            predictions = predictions[predictions["version"].astype(str) == target.version]
        reference = self.reference(target)
        judged = reference.judged()
        feedback = read_feedback(folder, start, task=judged.task, classes=judged.classes)
        return monitor(
            reference, predictions.reset_index(drop=True), feedback, self.config,
            window=(start, self.now), origin=folder.url,
        )  # fmt: skip

    def config_of(self, target: RunningVersion) -> MonitoringConfig:
        """Return the section with the model's task defaults where it leaves them unset."""
        return for_task(self.config, self.reference(target).judged().task)

    def indicators(
        self, result: ModelMonitoring, window: timedelta, config: MonitoringConfig
    ) -> tuple[dict[str, float], HealthScore]:
        values = {**result.indicators, **operational_indicators(self.operational(window))}
        health = score_health(values, config.health)
        if health.score is not None:
            values["health.score"] = health.score
        return values, health

    def model_run(self, target: RunningVersion, history: Sequence[Mapping[str, Any]]) -> ModelRun:
        result = self.measure(target, self.config.window)
        values, health = self.indicators(result, self.config.window, self.config_of(target))
        past = past_scores(history, target.key, self.config.health.trend_runs)
        health = replace(health, trend=health_trend(past, health.score))
        return ModelRun(target.key, result, health, values)

    def fired_rules(self, models: Sequence[ModelRun]) -> list[FiredRule]:
        fired: list[FiredRule] = []
        for model in models:
            target = RunningVersion(model.result.model, model.result.version, model.key)
            config = self.config_of(target)
            by_window: dict[timedelta, list[AlertRule]] = {}
            for rule in config.alerts:
                by_window.setdefault(rule.window or self.config.window, []).append(rule)
            for window, rules in by_window.items():
                values = model.indicators
                if window != self.config.window:
                    values = self.indicators(self.measure(target, window), window, config)[0]
                fired += evaluate_rules(rules, model.key, target.version, values)
        return fired
