"""The model registry: versions as Git tags, environments as manifests.

Owns registering model versions (annotated tags ``MODEL@vX.Y.Z`` whose
message holds the metadata), promoting them through the environments by
editing ``envs/*.yaml`` on a branch, rollback, lifecycle marks, and reading
it all back from Git: what runs where, since when, and every event.

Read API::

    list_versions(root, model=None, at=None)  -> [ModelVersion]
    find_version(root, model, version)        -> ModelVersion
    deployed(root, env, at=None)              -> {model: ModelVersion}
    status(root, env=None, at=None)           -> [Deployment]
    history(root, model=None, env=None, at=None) -> [Event]
    load_state(root, at=None, with_history=False) -> RegistryState

Write API: ``register``, ``promote``, ``complete_canary``, ``abort_canary``,
``rollback``, ``deprecate``, ``retire``; checks: ``verify``, ``gc``.
"""

from __future__ import annotations

from mlops_gitops.registry.events import Event, EventKind, serving_intervals
from mlops_gitops.registry.graph import Snapshot, resolve_at
from mlops_gitops.registry.lifecycle import (
    Finding,
    GcResult,
    VerifyReport,
    deprecate,
    gc,
    retire,
    verify,
)
from mlops_gitops.registry.promote import (
    Promotion,
    abort_canary,
    complete_canary,
    promote,
    rollback,
)
from mlops_gitops.registry.register import register, registration_metadata
from mlops_gitops.registry.state import (
    Deployment,
    RegistryState,
    Share,
    deployed,
    find_version,
    history,
    list_versions,
    load_state,
    status,
)
from mlops_gitops.registry.versions import (
    ArtifactRef,
    ModelVersion,
    RegistryError,
    VersionTag,
    parse_tag_name,
    read_tags,
    semver_key,
    tag_name,
)

__all__ = [
    "ArtifactRef",
    "Deployment",
    "Event",
    "EventKind",
    "Finding",
    "GcResult",
    "ModelVersion",
    "Promotion",
    "RegistryError",
    "RegistryState",
    "Share",
    "Snapshot",
    "VerifyReport",
    "VersionTag",
    "abort_canary",
    "complete_canary",
    "deployed",
    "deprecate",
    "find_version",
    "gc",
    "history",
    "list_versions",
    "load_state",
    "parse_tag_name",
    "promote",
    "read_tags",
    "register",
    "registration_metadata",
    "resolve_at",
    "retire",
    "rollback",
    "semver_key",
    "serving_intervals",
    "status",
    "tag_name",
    "verify",
]
