"""Environment manifests: ``envs/ENV.yaml`` and ``envs/environments.yaml``.

Owns the schema of the manifests (which model versions run in an
environment, pinned by artifact hash; the rollout; serving and monitoring
settings), reading them in the work tree or at any revision, and editing
them so that only the edited values change.

Read API::

    read_environment(root, "prod", rev=None) -> Manifest
    read_environments(root, rev=None)        -> {env: Manifest}
    list_environments(root, rev=None)        -> Environments (order, feeds, soak)
    load_manifest(path) / parse_manifest(text, origin) -> Manifest
    Manifest.models[name].version / .artifact.md5 / .routes()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; imported on first use at run time
    from mlops_gitops.manifests.conventions import (
        ENVIRONMENTS_FILE,
        ENVS_DIR,
        envs_dir,
        manifest_path,
    )
    from mlops_gitops.manifests.edit import (
        abort_canary,
        complete_canary,
        edit_manifest,
        edit_text,
        set_model,
        start_canary,
    )
    from mlops_gitops.manifests.load import (
        ManifestError,
        list_environments,
        load_manifest,
        parse_environments,
        parse_manifest,
        read_environment,
        read_environments,
    )
    from mlops_gitops.manifests.schema import (
        ABRollout,
        Artifact,
        Autoscaling,
        CanaryRollout,
        DirectRollout,
        Environments,
        EnvironmentSpec,
        Manifest,
        ModelDeployment,
        Pin,
        PredictionLog,
        Resources,
        Route,
        Serving,
        Variant,
        manifest_json_schema,
    )

# public name -> the module of the package that defines it
_MODULES = {
    "ABRollout": "schema",
    "Artifact": "schema",
    "Autoscaling": "schema",
    "CanaryRollout": "schema",
    "DirectRollout": "schema",
    "ENVIRONMENTS_FILE": "conventions",
    "ENVS_DIR": "conventions",
    "EnvironmentSpec": "schema",
    "Environments": "schema",
    "Manifest": "schema",
    "ManifestError": "load",
    "ModelDeployment": "schema",
    "Pin": "schema",
    "PredictionLog": "schema",
    "Resources": "schema",
    "Route": "schema",
    "Serving": "schema",
    "Variant": "schema",
    "abort_canary": "edit",
    "complete_canary": "edit",
    "edit_manifest": "edit",
    "edit_text": "edit",
    "envs_dir": "conventions",
    "list_environments": "load",
    "load_manifest": "load",
    "manifest_json_schema": "schema",
    "manifest_path": "conventions",
    "parse_environments": "load",
    "parse_manifest": "load",
    "read_environment": "load",
    "read_environments": "load",
    "set_model": "edit",
    "start_canary": "edit",
}

__all__ = [
    "ENVIRONMENTS_FILE",
    "ENVS_DIR",
    "ABRollout",
    "Artifact",
    "Autoscaling",
    "CanaryRollout",
    "DirectRollout",
    "EnvironmentSpec",
    "Environments",
    "Manifest",
    "ManifestError",
    "ModelDeployment",
    "Pin",
    "PredictionLog",
    "Resources",
    "Route",
    "Serving",
    "Variant",
    "abort_canary",
    "complete_canary",
    "edit_manifest",
    "edit_text",
    "envs_dir",
    "list_environments",
    "load_manifest",
    "manifest_json_schema",
    "manifest_path",
    "parse_environments",
    "parse_manifest",
    "read_environment",
    "read_environments",
    "set_model",
    "start_canary",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (pydantic loads only when needed)."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value
