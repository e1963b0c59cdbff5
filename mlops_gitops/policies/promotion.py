"""The promotion evidence: the manifest change, the deployed version, the soak time.

Everything comes from the registry and manifests read API: the change is
the head's ``envs/ENV.yaml`` against the merge base's; what runs now is the
base's manifest; registrations (a version's metrics, params and artifact)
are the registry tags; the soak time is measured on the history the head
builds on (only a promotion reads that history).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlops_gitops.policies.bundle import Change, Snapshot
from mlops_gitops.policies.revisions import Revisions
from mlops_gitops.policies.snapshots import PARAMS, flatten_metrics, parse_params
from mlops_gitops.policies.source import PolicyError

if TYPE_CHECKING:
    from mlops_gitops import registry
    from mlops_gitops.manifests import Manifest, ModelDeployment

# The registry and manifests are imported where they are used: a training
# gate without a target environment never needs them.
ENVS_DIR = "envs"
ENVIRONMENTS_FILE = "environments.yaml"


@dataclass(frozen=True)
class PromotionEvidence:
    """The target environment, the manifest change and the versions it compares."""

    environment: str | None = None
    change: Change | None = None
    promoted: Snapshot | None = None
    deployed: Snapshot | None = None


@dataclass(frozen=True, kw_only=True)
class _Edit:
    model: str
    version: str
    strategy: Literal["direct", "canary", "ab"]
    weight: float | None
    previous: str | None


def changed_environments(changed_files: Sequence[str]) -> list[str]:
    """Return the environments whose manifest the change edits."""
    names = []
    for path in changed_files:
        folder, _, name = path.rpartition("/")
        if folder == ENVS_DIR and name.endswith(".yaml") and name != ENVIRONMENTS_FILE:
            names.append(name.removesuffix(".yaml"))
    return names


def read_promotion(
    root: Path,
    revs: Revisions,
    *,
    environment: str | None,
    model: str | None,
    now: datetime,
    judged: str | None = None,
) -> PromotionEvidence:
    """Return the promotion evidence of the change (a training branch has no ``change``).

    The registry is read at the head (every registration, and the history
    the change builds on); what runs now is the base's manifest. When the
    change edits several models, ``judged`` picks the one described (the
    first by name by default) and the others are listed in ``other_models``.

    Raises:
        PolicyError: the change edits several manifests and no ``--env`` picks one, or
            the target environment is not declared.
    """
    edited = changed_environments(revs.changed_files)
    if environment is None and len(edited) > 1:
        raise PolicyError(
            f"the change edits the manifests of {', '.join(edited)}; pass --env to pick the target"
        )
    target = environment or (edited[0] if edited else None)
    if target is None:
        return PromotionEvidence()
    running = _running(root, target, revs.base)
    if target in edited:
        from mlops_gitops import registry

        state = registry.load_state(root, with_history=True)
        if target not in state.manifests:
            raise PolicyError(_unknown(target, state.environments.order))
        edits = _find_edits(state.manifests[target], _manifest_at(root, target, revs.merge_base))
        chosen = [e for e in edits if judged in (None, e.model)][:1]
        if chosen:
            others = [e.model for e in edits if e is not chosen[0]]
            return _promotion(state, target, chosen[0], now=now, running=running, others=others)
    return PromotionEvidence(environment=target, deployed=_deployed(root, running, model, None))


def _running(root: Path, env: str, base: str) -> Manifest:
    """Return the manifest of ``env`` at the base: what runs there now."""
    running = _manifest_at(root, env, base)
    if running is None:
        from mlops_gitops.manifests import list_environments

        declared = list_environments(root, rev=base).order
        if env in declared:
            raise PolicyError(
                f"{ENVS_DIR}/{env}.yaml: not found at the base ({base[:8]}); "
                "every declared environment needs its manifest"
            )
        raise PolicyError(_unknown(env, declared))
    return running


def _unknown(env: str, declared: list[str]) -> str:
    return f"unknown environment '{env}'; declared in envs/environments.yaml: {', '.join(declared)}"


def _manifest_at(root: Path, env: str, rev: str | None) -> Manifest | None:
    from mlops_gitops import manifests, scm

    path = f"{ENVS_DIR}/{env}.yaml"
    text = scm.show_file(rev, path, root) if rev is not None else None
    return manifests.parse_manifest(text, f"{rev[:8]}:{path}") if text is not None and rev else None


def _find_edits(new: Manifest, old: Manifest | None) -> list[_Edit]:
    edits = []
    for name, deployment in sorted(new.models.items()):
        before = old.models.get(name) if old is not None else None
        if before != deployment:
            edits.append(_edit(name, deployment, before))
    return edits


def _edit(name: str, deployment: ModelDeployment, before: ModelDeployment | None) -> _Edit:
    from mlops_gitops.manifests import ABRollout, CanaryRollout

    rollout = deployment.rollout
    previous = before.version if before is not None else None
    if isinstance(rollout, CanaryRollout):
        return _Edit(
            model=name,
            version=rollout.candidate.version,
            strategy="canary",
            weight=float(rollout.weight),
            previous=previous,
        )
    if isinstance(rollout, ABRollout):
        variant = rollout.variants[0]
        return _Edit(
            model=name,
            version=variant.version,
            strategy="ab",
            weight=float(variant.weight),
            previous=previous,
        )
    return _Edit(
        model=name, version=deployment.version, strategy="direct", weight=None, previous=previous
    )


def _promotion(
    state: registry.RegistryState,
    env: str,
    edit: _Edit,
    *,
    now: datetime,
    running: Manifest,
    others: list[str],
) -> PromotionEvidence:
    version = state.find(edit.model, edit.version)
    source = _source_environment(state, env, edit)
    soak: float | None = None
    required: float | None = None
    if source is not None:
        soak = _soak_hours(state, source, edit, now)
        required = state.environments.environments[source].soak_seconds() / 3600
    change = Change(
        manifest=f"{ENVS_DIR}/{env}.yaml",
        model=edit.model,
        version=edit.version,
        artifact_md5=version.artifact.md5 if version.artifact else None,
        previous_version=edit.previous,
        from_environment=source,
        to_environment=env,
        strategy=edit.strategy,
        canary_weight=edit.weight,
        soak_hours=soak,
        required_soak_hours=required,
        other_models=others,
    )
    return PromotionEvidence(
        environment=env,
        change=change,
        promoted=registration_snapshot(state.root, version),
        deployed=_deployed(state.root, running, edit.model, state.tags),
    )


def _source_environment(state: registry.RegistryState, env: str, edit: _Edit) -> str | None:
    from mlops_gitops.registry import serving_intervals

    sources = state.environments.sources(env)
    for name in sources:
        if serving_intervals(state.events, name, edit.model, edit.version):
            return name
    return sources[0] if sources else None


def _soak_hours(state: registry.RegistryState, env: str, edit: _Edit, now: datetime) -> float:
    """Return the longest run of the version in ``env`` (the registry's own soak rule)."""
    from mlops_gitops.registry import serving_intervals

    intervals = serving_intervals(state.events, env, edit.model, edit.version)
    longest = (
        max(((end or now) - start).total_seconds() for start, end in intervals)
        if intervals
        else 0.0
    )
    return max(0.0, longest / 3600)


def _deployed(
    root: Path, running: Manifest, model: str | None, tags: list[registry.VersionTag] | None
) -> Snapshot | None:
    """Return the registration of the version ``running`` serves for ``model`` (tags read once)."""
    if model is None or model not in running.models:
        return None
    from mlops_gitops.registry import read_tags

    version = running.models[model].version
    found = [
        t
        for t in (read_tags(root) if tags is None else tags)
        if (t.model, t.version, t.mark) == (model, version, "register")
    ]
    if not found:
        raise PolicyError(
            f"{model} {version} serves in the target environment but is not registered; "
            f"run 'mlops registry list {model}'"
        )
    return _snapshot(
        root, model=model, version=version, commit=found[0].commit, meta=found[0].metadata or {}
    )


def registration_snapshot(root: Path, version: registry.ModelVersion) -> Snapshot:
    """Return a registered version as a bundle snapshot."""
    meta = {"metrics": version.metrics, "params": version.params}
    if version.artifact is not None:
        meta["artifact"] = {"md5": version.artifact.md5}
    return _snapshot(
        root, model=version.model, version=version.version, commit=version.commit, meta=meta
    )


def _snapshot(
    root: Path, *, model: str, version: str, commit: str, meta: Mapping[str, Any]
) -> Snapshot:
    """Metrics come from the registration; params from ``params.yaml`` at the registered
    commit (the registration keeps only the params its stages declare), or from the
    registration when that file is gone."""
    from mlops_gitops import scm

    text = scm.show_file(commit, PARAMS, root)
    params = (
        parse_params(text, f"{commit[:8]}:{PARAMS}")
        if text is not None
        else params_tree((meta.get("params") or {}).get(PARAMS, {}))
    )
    artifact = meta.get("artifact")
    return Snapshot(
        model=model,
        version=version,
        source="registry",
        commit=commit,
        metrics=flatten_metrics(sorted((meta.get("metrics") or {}).items())),
        params=params,
        artifact_md5=artifact.get("md5") if isinstance(artifact, dict) else None,
    )


def params_tree(locked: Mapping[str, Any]) -> dict[str, Any]:
    """Expand ``dvc.lock`` params (``{"data.label": x, "model": {...}}``) into one tree."""
    tree: dict[str, Any] = {}
    for key, value in locked.items():
        node = tree
        *parents, leaf = str(key).split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, Mapping) and isinstance(node.get(leaf), dict):
            node[leaf].update(value)
        else:
            node[leaf] = value
    return tree
