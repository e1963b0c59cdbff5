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

The names are imported on first use (:mod:`mlops_gitops._lazy`), so that
importing the registry loads neither pydantic nor ruamel (the lifecycle and
pin checks need them): ``import mlops_gitops.registry`` takes 53 ms
against 0.15 s for every name (about 2.9x, ``bench/import_tricks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops._lazy import lazy_exports

if TYPE_CHECKING:  # the exports, each imported on first use (mlops_gitops/_lazy.py)
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

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
