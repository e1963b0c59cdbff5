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

from mlops_gitops.manifests.edit import (
    abort_canary,
    complete_canary,
    edit_manifest,
    edit_text,
    set_model,
    start_canary,
)
from mlops_gitops.manifests.load import (
    ENVIRONMENTS_FILE,
    ENVS_DIR,
    ManifestError,
    list_environments,
    load_manifest,
    manifest_path,
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
