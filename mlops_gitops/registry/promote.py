"""Promotion, canary and rollback: edits of ``envs/ENV.yaml`` on a new branch.

Each write builds one commit on a new branch (``promote/ENV/MODEL-VERSION``
and the like) from the current HEAD, without touching the work tree: the
branch becomes a pull request, and merging it is the deployment decision.
The commit message carries structured trailers (``Mlops-Action``,
``Mlops-Model``, ``Mlops-Version``, ``Mlops-From``, ``Mlops-To``,
``Mlops-Artifact-Md5``, ``Mlops-Registration``) that the history reads
back. History is never rewritten: a rollback is a new commit.

The writers import the manifest edits (ruamel and pydantic) when they run,
not with the module: ``import mlops_gitops.registry`` (which imports this
module) takes 52 ms instead of 0.16 s, about 3x (``bench/import_tricks.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops import scm
from mlops_gitops.manifests.conventions import envs_dir, manifest_path
from mlops_gitops.registry.events import serving_intervals
from mlops_gitops.registry.state import RegistryState, load_state
from mlops_gitops.registry.versions import ModelVersion, RegistryError, check_same_task, locked_md5

if TYPE_CHECKING:
    from mlops_gitops.manifests.edit import Document
    from mlops_gitops.manifests.schema import Pin

ENTRY = "registry"


@dataclass(frozen=True, kw_only=True)
class Promotion:
    """A manifest change written as a commit on a new branch."""

    action: str
    model: str
    version: str
    env: str
    source_env: str
    md5: str
    branch: str
    commit: str
    manifest: str
    previous: str | None
    message: str


@dataclass(frozen=True, kw_only=True)
class _Change:
    """One manifest change: what it does and how its commit message describes it."""

    action: str
    model: str
    version: str
    source: str
    env: str
    pin: Pin
    previous: str | None
    subject: str
    registration: str | None = None
    weight: int | None = None

    @property
    def branch(self) -> str:
        return f"{self.action}/{self.env}/{self.model}-{self.version}"

    def message(self) -> str:
        lines = [
            f"Mlops-Action: {self.action}",
            f"Mlops-Model: {self.model}",
            f"Mlops-Version: {self.version}",
            f"Mlops-From: {self.source}",
            f"Mlops-To: {self.env}",
            f"Mlops-Artifact-Md5: {self.pin.artifact.md5}",
        ]
        if self.previous is not None:
            lines.append(f"Mlops-Previous: {self.previous}")
        if self.registration:
            lines.append(f"Mlops-Registration: {self.registration}")
        if self.weight is not None:
            lines.append(f"Mlops-Weight: {self.weight}")
        return self.subject + "\n\n" + "\n".join(lines) + "\n"


def promote(
    root: str | os.PathLike[str],
    model: str,
    version: str,
    *,
    to: str,
    canary: int | None = None,
    now: datetime | None = None,
) -> Promotion:
    """Promote ``model`` ``version`` into ``to`` (as a canary of ``canary`` percent).

    Raises:
        RegistryError: an unknown, deprecated or archived version; a hash that does
            not match the registration; an environment skipped; a soak time not over;
            a canary already running; a version of another ``model.task`` than the
            one running in ``to``.
    """
    from mlops_gitops.manifests.edit import set_model, start_canary  # see the module docstring

    state = _writable_state(root)
    target = state.find(model, version)
    _check_usable(target)
    pin = _pin(root, target)
    source = _check_order(state, target, to, now or datetime.now(UTC))
    _check_source_pin(state, source, pin, model)
    previous = _check_replaces(state, target, to)
    if canary is None:
        subject = f"Promote {model} {version} from {source} to {to}"
        change = _Change(
            action="promote", model=model, version=version, source=source, env=to, pin=pin,
            previous=previous, subject=subject, registration=target.commit,
        )  # fmt: skip
        return _write(state, change, lambda d: set_model(d, model, pin))
    if previous is None:
        raise RegistryError(
            f"{model} does not run in {to} yet, so a canary has no baseline; "
            "promote it without --canary"
        )
    _check_weight(canary)
    subject = f"Canary {model} {version} in {to} at {canary}%"
    change = _Change(
        action="canary", model=model, version=version, source=source, env=to, pin=pin,
        previous=previous, subject=subject, registration=target.commit, weight=canary,
    )  # fmt: skip
    return _write(state, change, lambda d: start_canary(d, model, pin, canary))


def complete_canary(root: str | os.PathLike[str], model: str, *, env: str) -> Promotion:
    """Make the canary candidate of ``model`` in ``env`` serve all traffic."""
    from mlops_gitops.manifests import edit  # see the module docstring

    stable, candidate = _running_canary(root, model, env)
    subject = f"Complete the canary of {model} {candidate.version} in {env}"
    change = _Change(
        action="canary-complete",
        model=model,
        version=candidate.version,
        source=env,
        env=env,
        pin=candidate,
        previous=stable,
        subject=subject,
    )
    return _write(
        load_state(root, with_history=False),
        change,
        lambda d: edit.complete_canary(d, model),
    )


def abort_canary(root: str | os.PathLike[str], model: str, *, env: str) -> Promotion:
    """Drop the canary candidate of ``model`` in ``env``: the stable version serves all traffic."""
    from mlops_gitops.manifests import edit  # see the module docstring

    stable, candidate = _running_canary(root, model, env)
    subject = f"Abort the canary of {model} {candidate.version} in {env}"
    change = _Change(
        action="canary-abort",
        model=model,
        version=candidate.version,
        source=env,
        env=env,
        pin=candidate,
        previous=stable,
        subject=subject,
    )
    return _write(
        load_state(root, with_history=False), change, lambda d: edit.abort_canary(d, model)
    )


def _running_canary(root: str | os.PathLike[str], model: str, env: str) -> tuple[str, Pin]:
    state = _writable_state(root, history=False)
    state.check_model(model)
    deployment = state.manifests[_env(state, env)].models.get(model)
    rollout = deployment.rollout if deployment else None
    if deployment is None or rollout is None or rollout.strategy != "canary":
        raise RegistryError(f"{manifest_path(env)} models.{model}: no canary is running in {env}")
    return deployment.version, rollout.candidate


def rollback(
    root: str | os.PathLike[str],
    *,
    env: str,
    model: str | None = None,
    to: str | None = None,
) -> Promotion:
    """Write the previous (or the ``to``) version of ``model`` back into ``env``.

    Raises:
        RegistryError: nothing to roll back to, or ``to`` never ran in ``env``.
    """
    from mlops_gitops.manifests.edit import set_model  # see the module docstring

    state = _writable_state(root)
    manifest = state.manifests[_env(state, env)]
    name = _only_model(model, list(manifest.models), env)
    current = manifest.models[name].version
    target_version = to or _previous_version(state, env, name, current)
    if target_version == current:
        raise RegistryError(f"{name} {current} already runs in {env}; nothing to roll back")
    target = state.find(name, target_version)
    _check_usable(target)
    if not serving_intervals(state.events, env, name, target_version):
        raise RegistryError(
            f"{name} {target_version} never ran in {env}, so it is not a rollback; "
            f"use 'mlops promote {name} {target_version} --to {env}'"
        )
    pin = _pin(root, target)
    subject = f"Roll back {name} in {env} from {current} to {target_version}"
    change = _Change(
        action="rollback",
        model=name,
        version=target_version,
        source=env,
        env=env,
        pin=pin,
        previous=current,
        subject=subject,
        registration=target.commit,
    )
    return _write(state, change, lambda d: set_model(d, name, pin))


def _writable_state(root: str | os.PathLike[str], *, history: bool = True) -> RegistryState:
    if scm.is_dirty(root):
        raise RegistryError("the work tree has uncommitted changes; commit them first")
    return load_state(root, with_history=history)


def _env(state: RegistryState, env: str) -> str:
    if env not in state.manifests:
        names = ", ".join(state.environments.order)
        raise RegistryError(
            f"unknown environment '{env}'; declared in envs/environments.yaml: {names}"
        )
    return env


def _only_model(model: str | None, models: list[str], env: str) -> str:
    if model is not None:
        if model not in models:
            raise RegistryError(f"{manifest_path(env)}: model '{model}' does not run in {env}")
        return model
    if len(models) != 1:
        names = ", ".join(models) or "none"
        raise RegistryError(f"{env} runs {len(models)} models ({names}); name one with --model")
    return models[0]


def _previous_version(state: RegistryState, env: str, model: str, current: str) -> str:
    for event in reversed(state.events):
        same = event.env == env and event.model == model and event.running == current
        if same and event.previous is not None and event.previous != current:
            return event.previous
    raise RegistryError(
        f"{model} has no earlier version in {env} to roll back to; use --to VERSION"
    )


def _check_replaces(state: RegistryState, target: ModelVersion, env: str) -> str | None:
    """Return the version ``target`` replaces in ``env``; raise when it may not replace it."""
    model, version = target.model, target.version
    current = state.manifests[env].models.get(model)
    if current is None:
        return None
    if current.rollout.strategy == "canary":
        raise RegistryError(
            f"{manifest_path(env)} models.{model}: a canary of {current.running_versions()[1]} "
            f"is running; run 'mlops promote {model} --to {env} --complete' or '--abort' first"
        )
    if current.version == version:
        raise RegistryError(f"{model} {version} already runs in {env}; nothing to promote")
    running = next((v for v in state.versions(model) if v.version == current.version), None)
    if running is not None:
        check_same_task(target, running, env=env)
    return current.version


def _check_usable(version: ModelVersion) -> None:
    if version.archived or version.deprecated:
        state = "archived" if version.archived else "deprecated"
        raise RegistryError(
            f"{version.model} {version.version} is {state}; promote a registered version instead"
        )


def _pin(root: str | os.PathLike[str], version: ModelVersion) -> Pin:
    """Return the artifact pin of a registration, checked against ``dvc.lock`` at its commit."""
    if version.artifact is None or not version.artifact.md5:
        raise RegistryError(
            f"{version.tag} has no artifact metadata (not made by 'mlops register'); "
            "register it again"
        )
    found = locked_md5(root, version.commit, version.artifact.path)
    if found != version.artifact.md5:
        raise RegistryError(
            f"{version.tag}: the registration says md5 {version.artifact.md5} but dvc.lock at "
            f"{version.commit[:8]} has {found} for {version.artifact.path}; "
            "the tag was moved or its artifact changed; run 'mlops verify'"
        )
    from mlops_gitops.manifests.schema import Artifact, Pin

    artifact = Artifact(path=version.artifact.path, md5=version.artifact.md5)
    return Pin(version=version.version, artifact=artifact)


def _check_order(state: RegistryState, version: ModelVersion, env: str, now: datetime) -> str:
    """Return the environment the version comes from; raise when it may not enter ``env``."""
    _env(state, env)
    sources = state.environments.sources(env)
    if not sources:
        return ENTRY
    waits: list[str] = []
    for source in sources:
        intervals = serving_intervals(state.events, source, version.model, version.version)
        soak = timedelta(seconds=state.environments.environments[source].soak_seconds())
        if not intervals:
            continue
        served = max((end or now) - start for start, end in intervals)
        if served >= soak:
            return source
        ready = min(start for start, _ in intervals) + soak
        waits.append(
            f"it ran {_hours(served)} of the {_hours(soak)} soak in {source} "
            f"(ready after {ready.isoformat(timespec='minutes')})"
        )
    if waits:
        raise RegistryError(f"{version.model} {version.version} cannot enter {env} yet: {waits[0]}")
    raise RegistryError(
        f"{version.model} {version.version} has not run in {' or '.join(sources)}; "
        f"promote it there first (environments may not be skipped)"
    )


def _check_source_pin(state: RegistryState, source: str, pin: Pin, model: str) -> None:
    """Refuse when the environment it comes from pins another hash for this version."""
    deployment = state.manifests[source].models.get(model) if source in state.manifests else None
    for route in deployment.routes() if deployment else []:
        if route.version == pin.version and route.artifact.md5 != pin.artifact.md5:
            raise RegistryError(
                f"{manifest_path(source)} pins md5 {route.artifact.md5} for {model} {pin.version} "
                f"but its registration says {pin.artifact.md5}; run 'mlops verify --env {source}'"
            )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}h"


def _check_weight(weight: int) -> None:
    if not 1 <= weight <= 99:
        raise RegistryError(f"--canary {weight}: the canary weight must be 1 to 99 percent")


def _write(state: RegistryState, change: _Change, edit: Callable[[Document], object]) -> Promotion:
    from mlops_gitops.manifests.edit import edit_text  # see the module docstring

    base = state.snapshot.rev
    rel = f"{envs_dir(state.root, base)}/{change.env}.yaml"  # envs/ may link elsewhere
    text = scm.show_file(base, rel, state.root) or ""
    new_text, _, _ = edit_text(text, edit, origin=manifest_path(change.env))
    message = change.message()
    commit = scm.commit_to_branch(
        Path(state.root),
        base=base,
        branch=change.branch,
        files={rel: new_text.encode()},
        message=message,
    )
    return Promotion(
        action=change.action,
        model=change.model,
        version=change.version,
        env=change.env,
        source_env=change.source,
        md5=change.pin.artifact.md5,
        branch=change.branch,
        commit=commit,
        manifest=rel,
        previous=change.previous,
        message=message,
    )
