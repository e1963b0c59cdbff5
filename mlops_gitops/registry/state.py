"""The registry read from Git: versions, what runs where, and the history.

Everything here is derived from the repository at one revision: the
registry tags (one ``for-each-ref``), the manifests (one ``cat-file
--batch``) and, for histories, one ``git log`` of the graph and one of
``envs/``. Nothing is cached or stored elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_gitops.manifests.load import read_environments
from mlops_gitops.manifests.schema import Environments, Manifest
from mlops_gitops.registry.events import Event, order_events, read_manifest_events, tag_events
from mlops_gitops.registry.graph import Snapshot, parse_time, read_graph, resolve_at
from mlops_gitops.registry.versions import (
    ArtifactRef,
    Mark,
    ModelVersion,
    RegistryError,
    VersionTag,
    closest,
    read_tags,
    semver_key,
)


@dataclass(frozen=True)
class Share:
    """One share of an environment's traffic for a model."""

    name: str
    version: str
    md5: str
    weight: int


@dataclass(frozen=True)
class Deployment:
    """What runs for one model in one environment, since when and brought by whom."""

    env: str
    model: str
    version: str
    artifact: ArtifactRef
    strategy: str
    routes: tuple[Share, ...]
    since: str | None = None
    commit: str | None = None
    author: str | None = None
    email: str | None = None
    landed: str | None = None
    registered: bool = True


@dataclass(frozen=True)
class RegistryState:
    """The registry at one point of the history (see :func:`load_state`)."""

    root: Path
    snapshot: Snapshot
    environments: Environments
    manifests: dict[str, Manifest]
    tags: list[VersionTag]
    events: list[Event] = field(default_factory=list)

    def versions(self, model: str | None = None) -> list[ModelVersion]:
        """Return the registered versions (of ``model``), by model then SemVer."""
        marks: set[tuple[str, str, Mark]] = {
            (t.model, t.version, t.mark) for t in self.tags if t.mark != "register"
        }
        running = self._running()
        found = [
            _model_version(tag, marks, running.get((tag.model, tag.version), []), self.environments)
            for tag in self.tags
            if tag.mark == "register" and (model is None or tag.model == model)
        ]
        return sorted(found, key=lambda v: (v.model, semver_key(v.version)))

    def models(self) -> list[str]:
        """Return every model name that has a registered version or runs somewhere."""
        names = {t.model for t in self.tags} | {
            m for mf in self.manifests.values() for m in mf.models
        }
        return sorted(names)

    def find(self, model: str, version: str) -> ModelVersion:
        """Return one registered version; the error names the closest existing ones."""
        for candidate in self.versions(model):
            if candidate.version == version:
                return candidate
        self.check_model(model)
        known = [v.version for v in self.versions(model)]
        raise RegistryError(
            f"{model} {version} is not registered; closest: {closest(version, known)}; "
            f"run 'mlops registry list {model}'"
        )

    def check_model(self, model: str) -> None:
        """Raise when ``model`` is unknown, naming the closest known models."""
        if model not in self.models():
            raise RegistryError(
                f"unknown model '{model}'; closest: {closest(model, self.models())}; "
                "run 'mlops registry list'"
            )

    def _running(self) -> dict[tuple[str, str], list[str]]:
        running: dict[tuple[str, str], list[str]] = {}
        for env, manifest in self.manifests.items():
            for model, deployment in manifest.models.items():
                for version in dict.fromkeys(deployment.running_versions()):
                    running.setdefault((model, version), []).append(env)
        return running


def load_state(
    root: str | os.PathLike[str] = ".", *, at: str | None = None, with_history: bool = False
) -> RegistryState:
    """Read the registry at ``at`` (a date or revision; HEAD by default).

    With ``with_history`` the ordered events are read too (two more git calls).
    """
    snapshot = resolve_at(root, at)
    tags = read_tags(root)
    if at is not None:
        tags = [t for t in tags if parse_time(t.date) <= snapshot.time]
    manifests = read_environments(root, rev=snapshot.rev)
    from mlops_gitops.manifests.load import list_environments

    environments = list_environments(root, rev=snapshot.rev)
    events: list[Event] = []
    if with_history:
        graph = read_graph(root, snapshot.rev)
        raw = tag_events(tags) + read_manifest_events(root, snapshot.rev, graph)
        events = order_events(raw, graph)
    return RegistryState(Path(root), snapshot, environments, manifests, tags, events)


def _model_version(
    tag: VersionTag, marks: set[tuple[str, str, Mark]], envs: list[str], environments: Environments
) -> ModelVersion:
    meta = tag.metadata
    artifact = meta.get("artifact")
    deprecated = (tag.model, tag.version, "deprecate") in marks
    archived = (tag.model, tag.version, "archive") in marks
    state = "archived" if archived else "deprecated" if deprecated else "registered"
    if state == "registered" and envs:
        state = max(envs, key=environments.order.index)
    return ModelVersion(
        model=tag.model,
        version=tag.version,
        tag=tag.name,
        commit=tag.commit,
        registered_by=tag.tagger,
        registered_email=tag.email,
        registered_at=tag.date,
        artifact=_artifact(artifact) if isinstance(artifact, dict) else None,
        data=dict(meta.get("data") or {}),
        params=dict(meta.get("params") or {}),
        metrics=dict(meta.get("metrics") or {}),
        state=state,
        environments=tuple(sorted(envs, key=environments.order.index)),
        deprecated=deprecated,
        archived=archived,
        tag_object=tag.tag_object,
    )


def _artifact(value: dict[str, Any]) -> ArtifactRef:
    size = value.get("size")
    return ArtifactRef(
        path=str(value.get("path", "")),
        md5=str(value.get("md5", "")),
        size=size if isinstance(size, int) else None,
    )


def list_versions(
    root: str | os.PathLike[str] = ".", model: str | None = None, *, at: str | None = None
) -> list[ModelVersion]:
    """Return the registered versions, with their lifecycle state, at ``at``."""
    state = load_state(root, at=at)
    if model is not None:
        state.check_model(model)
    return state.versions(model)


def find_version(
    root: str | os.PathLike[str], model: str, version: str, *, at: str | None = None
) -> ModelVersion:
    """Return the registration of ``model`` ``version``; the error names the closest ones."""
    return load_state(root, at=at).find(model, version)


def deployed(
    root: str | os.PathLike[str], env: str, *, at: str | None = None
) -> dict[str, ModelVersion]:
    """Return the serving version of each model in ``env`` with its registration metadata.

    Raises:
        RegistryError: the manifest pins a version that is not registered.
    """
    state = load_state(root, at=at)
    manifest = _manifest(state, env)
    return {model: state.find(model, d.version) for model, d in manifest.models.items()}


def status(
    root: str | os.PathLike[str] = ".", env: str | None = None, *, at: str | None = None
) -> list[Deployment]:
    """Return what runs in each environment (or ``env``), since when and by which commit."""
    state = load_state(root, at=at, with_history=True)
    envs = [env] if env is not None else state.environments.order
    registered = {(t.model, t.version) for t in state.tags if t.mark == "register"}
    result: list[Deployment] = []
    for name in envs:
        for model, deployment in sorted(_manifest(state, name).models.items()):
            origin = _origin(state.events, name, model, deployment.version)
            result.append(
                Deployment(
                    env=name,
                    model=model,
                    version=deployment.version,
                    artifact=ArtifactRef(deployment.artifact.path, deployment.artifact.md5),
                    strategy=deployment.rollout.strategy,
                    routes=tuple(
                        Share(r.name, r.version, r.artifact.md5, r.weight)
                        for r in deployment.routes()
                    ),
                    since=origin.date if origin else None,
                    commit=origin.commit if origin else None,
                    author=origin.author if origin else None,
                    email=origin.email if origin else None,
                    landed=origin.landed if origin else None,
                    registered=(model, deployment.version) in registered,
                )
            )
    return result


def _manifest(state: RegistryState, env: str) -> Manifest:
    if env not in state.manifests:
        names = ", ".join(state.environments.order)
        raise RegistryError(
            f"unknown environment '{env}'; declared in envs/environments.yaml: {names}"
        )
    return state.manifests[env]


def _origin(events: list[Event], env: str, model: str, version: str) -> Event | None:
    """Return the event that started the current run of ``version`` (None if unknown)."""
    origin: Event | None = None
    for event in events:
        if event.env != env or event.model != model:
            continue
        if event.running != version:
            origin = None
        elif origin is None or event.previous != version:
            origin = event
    return origin


def history(
    root: str | os.PathLike[str] = ".",
    model: str | None = None,
    *,
    env: str | None = None,
    at: str | None = None,
) -> list[Event]:
    """Return every event (of ``model``, in ``env``) in Git-graph order, oldest first."""
    state = load_state(root, at=at, with_history=True)
    if model is not None:
        state.check_model(model)
    return [
        e
        for e in state.events
        if (model is None or e.model == model) and (env is None or e.env == env)
    ]
