"""The registry read from Git: versions, what runs where, and the history.

Everything here is derived from the repository at one revision: the
registry tags (one ``for-each-ref``), the manifests (one ``cat-file
--batch``) and, for histories, one ``git log`` of the graph and one of
``envs/``. Nothing is cached or stored elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.registry.events import Event, order_events, read_history, tag_events
from mlops_gitops.registry.graph import Snapshot, parse_time, resolve_at
from mlops_gitops.registry.versions import (
    ArtifactRef,
    Mark,
    ModelVersion,
    RegistryError,
    VersionTag,
    closest,
    list_tag_refs,
    read_tags,
    semver_key,
)

if TYPE_CHECKING:
    from mlops_gitops.manifests.schema import Environments, Manifest, ModelDeployment


@dataclass(frozen=True)
class Share:
    """One share of an environment's traffic for a model."""

    name: str
    version: str
    md5: str
    weight: int


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class RegistryState:
    """The registry at one point of the history (see :func:`load_state`)."""

    root: Path
    snapshot: Snapshot
    environments: Environments
    manifests: dict[str, Manifest]
    tags: list[VersionTag]
    events: list[Event] = field(default_factory=list)
    all_models: bool = True

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
        if model in self.models():
            return
        known = set(self.models())
        if not self.all_models:  # the tags were read for some models only
            known |= {name for name, _ in list_tag_refs(self.root)}
        raise RegistryError(
            f"unknown model '{model}'; closest: {closest(model, sorted(known))}; "
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
    root: str | os.PathLike[str] = ".",
    *,
    at: str | None = None,
    models: Sequence[str] | None = None,
    with_history: bool = False,
    with_metadata: bool = True,
) -> RegistryState:
    """Read the registry at ``at`` (a date or revision; HEAD by default).

    The tags, the manifests and the history are read concurrently (each
    is one git process); nothing else is read.

    Args:
        root: the repository.
        at: a date (``YYYY-MM-DD[THH:MM]``) or a revision.
        models: read the tags of these models only (all by default).
        with_history: read the ordered events too (one more git call).
        with_metadata: read the whole tag messages (see :func:`read_tags`).
    """
    from concurrent.futures import ThreadPoolExecutor

    snapshot = resolve_at(root, at)
    with ThreadPoolExecutor(max_workers=2) as pool:
        history = pool.submit(read_history, root, snapshot.rev) if with_history else None
        pending_tags = pool.submit(read_tags, root, models, with_metadata=with_metadata)
        # imported here, while git works: validation needs pydantic, reading git does not
        from mlops_gitops.manifests.load import list_environments, read_environments

        environments = list_environments(root, rev=snapshot.rev)
        manifests = read_environments(root, rev=snapshot.rev)
        tags = pending_tags.result()
        if at is not None:
            tags = [t for t in tags if parse_time(t.date) <= snapshot.time]
        events: list[Event] = []
        if history is not None:
            graph, drafts = history.result()
            events = order_events(tag_events(tags) + drafts, graph)
    return RegistryState(
        root=Path(root),
        snapshot=snapshot,
        environments=environments,
        manifests=manifests,
        tags=tags,
        events=events,
        all_models=models is None,
    )


def _model_version(
    tag: VersionTag, marks: set[tuple[str, str, Mark]], envs: list[str], environments: Environments
) -> ModelVersion:
    meta = tag.metadata
    deprecated = (tag.model, tag.version, "deprecate") in marks
    archived = (tag.model, tag.version, "archive") in marks
    state = "archived" if archived else "deprecated" if deprecated else "registered"
    if envs:
        envs = sorted(envs, key=environments.order.index)
        state = envs[-1] if state == "registered" else state
    return ModelVersion(
        model=tag.model,
        version=tag.version,
        tag=tag.name,
        commit=tag.commit,
        registered_by=tag.tagger,
        registered_email=tag.email,
        registered_at=tag.date,
        artifact=tag.artifact(),
        data=None if meta is None else meta.get("data") or {},
        params=None if meta is None else meta.get("params") or {},
        metrics=None if meta is None else meta.get("metrics") or {},
        state=state,
        environments=tuple(envs),
        deprecated=deprecated,
        archived=archived,
        tag_object=tag.tag_object,
    )


def list_versions(
    root: str | os.PathLike[str] = ".",
    model: str | None = None,
    *,
    at: str | None = None,
    with_metadata: bool = True,
) -> list[ModelVersion]:
    """Return the registered versions, with their lifecycle state, at ``at``.

    Without ``with_metadata`` the versions come without ``data``, ``params``
    and ``metrics`` (None), which reads a fraction of the bytes.
    """
    models = None if model is None else [model]
    state = load_state(root, at=at, models=models, with_metadata=with_metadata)
    if model is not None:
        state.check_model(model)
    return state.versions(model)


def find_version(
    root: str | os.PathLike[str], model: str, version: str, *, at: str | None = None
) -> ModelVersion:
    """Return the registration of ``model`` ``version``; the error names the closest ones."""
    return load_state(root, at=at, models=[model]).find(model, version)


def deployed(
    root: str | os.PathLike[str], env: str, *, at: str | None = None
) -> dict[str, ModelVersion]:
    """Return the serving version of each model in ``env`` with its registration metadata.

    Raises:
        RegistryError: the manifest pins a version that is not registered.
    """
    manifest = _manifest(load_state(root, at=at, models=[]), env)
    state = load_state(root, at=at, models=list(manifest.models))
    return {model: state.find(model, d.version) for model, d in manifest.models.items()}


def status(
    root: str | os.PathLike[str] = ".", env: str | None = None, *, at: str | None = None
) -> list[Deployment]:
    """Return what runs in each environment (or ``env``), since when and by which commit."""
    state = load_state(root, at=at, models=[], with_history=True)
    envs = [env] if env is not None else state.environments.order
    registered = list_tag_refs(root)
    by_slot: dict[tuple[str | None, str], list[Event]] = {}
    for event in state.events:
        by_slot.setdefault((event.env, event.model), []).append(event)
    result: list[Deployment] = []
    for name in envs:
        for model, deployment in sorted(_manifest(state, name).models.items()):
            origin = _origin(by_slot.get((name, model), []), deployment.version)
            result.append(
                _deployment(name, model, deployment, origin=origin, registered=registered)
            )
    return result


def _deployment(
    env: str,
    model: str,
    deployment: ModelDeployment,
    *,
    origin: Event | None,
    registered: set[tuple[str, str]],
) -> Deployment:
    return Deployment(
        env=env,
        model=model,
        version=deployment.version,
        artifact=ArtifactRef(deployment.artifact.path, deployment.artifact.md5),
        strategy=deployment.rollout.strategy,
        routes=tuple(
            Share(r.name, r.version, r.artifact.md5, r.weight) for r in deployment.routes()
        ),
        since=origin.date if origin else None,
        commit=origin.commit if origin else None,
        author=origin.author if origin else None,
        email=origin.email if origin else None,
        landed=origin.landed if origin else None,
        registered=(model, deployment.version) in registered,
    )


def _manifest(state: RegistryState, env: str) -> Manifest:
    if env not in state.manifests:
        names = ", ".join(state.environments.order)
        raise RegistryError(
            f"unknown environment '{env}'; declared in envs/environments.yaml: {names}"
        )
    return state.manifests[env]


def _origin(events: list[Event], version: str) -> Event | None:
    """Return the event (of one model in one environment) that started the current run."""
    origin: Event | None = None
    for event in events:
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
    state = load_state(root, at=at, models=None if model is None else [model], with_history=True)
    if model is not None:
        state.check_model(model)
    return [
        e
        for e in state.events
        if (model is None or e.model == model) and (env is None or e.env == env)
    ]
