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

The names are imported on first use (:mod:`mlops_gitops._lazy`), so that the
paths of :mod:`.conventions` come without pydantic or ruamel: ``import
mlops_gitops.manifests`` takes 6.8 ms against 0.13 s for every name (about
19x, ``bench/import_tricks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops._lazy import lazy_exports

if TYPE_CHECKING:  # the exports, each imported on first use (mlops_gitops/_lazy.py)
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

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
