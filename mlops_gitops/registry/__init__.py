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
``rollback``, ``deprecate``, ``retire``; checks: ``verify``, ``gc``,
``compare_pins`` / ``check_pins`` (manifest pins against registrations).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; imported on first use at run time
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
    from mlops_gitops.registry.pins import PinCheck, check_pins, compare_pins
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

# ``promote`` and ``register`` are also the names of submodules, and importing a
# submodule sets the package attribute to the module: these two functions are
# bound here, after their modules are imported, so that they win.
from mlops_gitops.registry.promote import promote
from mlops_gitops.registry.register import register

# public name -> the module of the package that defines it
_MODULES = {
    "ArtifactRef": "versions",
    "Deployment": "state",
    "Event": "events",
    "EventKind": "events",
    "Finding": "lifecycle",
    "GcResult": "lifecycle",
    "ModelVersion": "versions",
    "PinCheck": "pins",
    "Promotion": "promote",
    "RegistryError": "versions",
    "RegistryState": "state",
    "Share": "state",
    "Snapshot": "graph",
    "VerifyReport": "lifecycle",
    "VersionTag": "versions",
    "abort_canary": "promote",
    "check_pins": "pins",
    "compare_pins": "pins",
    "complete_canary": "promote",
    "deployed": "state",
    "deprecate": "lifecycle",
    "find_version": "state",
    "gc": "lifecycle",
    "history": "state",
    "list_versions": "state",
    "load_state": "state",
    "parse_tag_name": "versions",
    "promote": "promote",
    "read_tags": "versions",
    "register": "register",
    "registration_metadata": "register",
    "resolve_at": "graph",
    "retire": "lifecycle",
    "rollback": "promote",
    "semver_key": "versions",
    "serving_intervals": "events",
    "status": "state",
    "tag_name": "versions",
    "verify": "lifecycle",
}

__all__ = [
    "ArtifactRef",
    "Deployment",
    "Event",
    "EventKind",
    "Finding",
    "GcResult",
    "ModelVersion",
    "PinCheck",
    "Promotion",
    "RegistryError",
    "RegistryState",
    "Share",
    "Snapshot",
    "VerifyReport",
    "VersionTag",
    "abort_canary",
    "check_pins",
    "compare_pins",
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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, so that a read does not load the writers."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value
