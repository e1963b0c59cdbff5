"""What an environment serves: the models, versions, traffic weights and settings.

A :class:`ServingPlan` is the serving view of an environment manifest
(``envs/<env>.yaml``). It is built from the manifests concept's reader, so
serving never parses a manifest itself; tests and embedders may build one
directly. :func:`read_registered_plan` (what ``serve``, ``render`` and
``deploy`` use) also checks every pin against its registration, on the same
manifest text the plan is built from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlops_gitops.serving.model import ServingError

if TYPE_CHECKING:
    from mlops_gitops.manifests import Manifest

Strategy = Literal["direct", "canary", "ab"]
# whether pins are compared with their registrations: "skip" only where no Git history exists
# (the rendered image, whose render compared them)
RegistryCheck = Literal["required", "skip"]

DEFAULT_LOG_ROOT = ".mlops/predictions"


@dataclass(frozen=True)
class Variant:
    """One pinned version of a model and its share of the traffic (0 to 1)."""

    version: str
    path: str
    md5: str
    weight: float = 1.0


@dataclass(frozen=True)
class ModelPlan:
    """A served model: its rollout strategy and pinned versions (stable first)."""

    name: str
    variants: tuple[Variant, ...]
    strategy: Strategy = "direct"
    # version -> the artifact SHA-256 its registration's verified signature covers
    signed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.variants:
            raise ServingError(f"model '{self.name}' pins no version; pin one in the manifest")
        total = sum(v.weight for v in self.variants)
        if any(v.weight < 0 for v in self.variants) or abs(total - 1.0) > 1e-6:
            weights = ", ".join(f"{v.version}={v.weight}" for v in self.variants)
            raise ServingError(
                f"model '{self.name}' traffic weights ({weights}) must be non-negative and sum to 1"
            )


@dataclass(frozen=True, kw_only=True)
class PredictionLogSettings:
    """Where and how predictions are logged (rotating Parquet files per model)."""

    enabled: bool = True
    path: str | None = None
    store: str | None = None  # an fsspec URL (serving.prediction_log.store); overrides path
    store_options: Mapping[str, object] = field(default_factory=dict)
    rotate_rows: int = 10_000
    rotate_seconds: float = 60.0
    queue_size: int = 10_000


@dataclass(frozen=True)
class ValidationSettings:
    """Real-time validation of requests (the manifest's ``monitoring.validation``).

    ``reference`` and ``range_tolerance`` (``monitoring.reference``,
    ``monitoring.quality.range_tolerance``) say which registered data the
    training schema is derived from and how far its ranges are widened.
    """

    enabled: bool = True
    reject: bool = False
    reference: Literal["train", "test"] = "train"
    range_tolerance: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ServingSettings:
    """Scale-out, logging and validation settings of an environment."""

    replicas: int = 1
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    autoscaling: Mapping[str, int] = field(default_factory=dict)
    prediction_log: PredictionLogSettings = field(default_factory=PredictionLogSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)


@dataclass(frozen=True, kw_only=True)
class ServingPlan:
    """The models an environment pins, where they come from and how they scale."""

    env: str
    root: Path
    models: tuple[ModelPlan, ...]
    settings: ServingSettings = field(default_factory=ServingSettings)
    source: Path | None = None

    def log_dir(self) -> Path:
        """Return the folder that receives this environment's prediction logs."""
        configured = self.settings.prediction_log.path
        path = Path(configured) if configured else Path(DEFAULT_LOG_ROOT) / self.env
        return path if path.is_absolute() else self.root / path

    def model(self, name: str) -> ModelPlan:
        """Return the plan of model ``name``."""
        for plan in self.models:
            if plan.name == name:
                return plan
        known = ", ".join(m.name for m in self.models) or "none"
        raise ServingError(
            f"environment '{self.env}' serves no model '{name}' (it serves: {known})"
        )


def manifest_path(root: str | os.PathLike[str], env: str) -> Path:
    """Return the path of the manifest of environment ``env``."""
    return Path(root) / "envs" / f"{env}.yaml"


def read_plan(root: str | os.PathLike[str], env: str) -> ServingPlan:
    """Return the serving plan of ``env`` from its manifest in the work tree.

    Raises:
        ManifestError: the manifest is missing or not valid.
        MonitoringConfigError: its ``monitoring:`` section is not valid.
        ServingError: a pinned artifact is a directory rather than an ONNX file.
    """
    from mlops_gitops.manifests import read_environment

    root_path = Path(root).resolve()
    manifest = read_environment(root_path, env)
    return plan_from_manifest(
        manifest, env=env, root=root_path, source=manifest_path(root_path, env)
    )


def read_registered_plan(
    root: str | os.PathLike[str], env: str, *, rev: str | None = None
) -> ServingPlan:
    """Return the serving plan of ``env`` once every pin matches its registration.

    The manifest is read once, from the work tree or at ``rev``; the pins are
    checked on that text and the plan is built from it, so nothing can change
    between the check and the use.

    Raises:
        ManifestError: the manifest is missing or not valid.
        RegistryError: a pinned (path, md5) differs from its version's registration, or a
            version's signature does not verify (or is missing where the environment
            requires one: ``signed_models``).
        ScmError: the registry tags cannot be read.
    """
    from mlops_gitops.manifests import read_environment
    from mlops_gitops.registry.pins import check_pins
    from mlops_gitops.registry.signing import check_pinned

    root_path = Path(root).resolve()
    manifest = read_environment(root_path, env, rev=rev)
    pins = check_pins(root_path, env, manifest)
    signed = check_pinned(root_path, env, [(p.model, p.version) for p in pins], rev=rev)
    plan = plan_from_manifest(
        manifest, env=env, root=root_path, source=manifest_path(root_path, env)
    )
    models = tuple(
        replace(m, signed={v: sha for (n, v), sha in signed.items() if n == m.name and sha})
        for m in plan.models
    )
    return replace(plan, models=models)


def plan_from_manifest(
    manifest: Manifest, *, env: str, root: Path, source: Path | None = None
) -> ServingPlan:
    """Translate a validated manifest into the serving view of it."""
    models = []
    for name, deployment in sorted(manifest.models.items()):
        variants = []
        for route in deployment.routes():
            if route.artifact.md5.endswith(".dir"):
                raise ServingError(
                    f"envs/{env}.yaml models.{name}: {route.artifact.path} is a directory; "
                    "serving needs a single ONNX file"
                )
            variants.append(
                Variant(route.version, route.artifact.path, route.artifact.md5, route.weight / 100)
            )
        models.append(ModelPlan(name, tuple(variants), deployment.rollout.strategy))
    return ServingPlan(
        env=env, root=root, models=tuple(models), settings=_settings(manifest, env), source=source
    )


def _settings(manifest: Manifest, env: str) -> ServingSettings:
    serving = manifest.serving
    log = serving.prediction_log
    autoscaling = serving.autoscaling
    return ServingSettings(
        replicas=serving.replicas,
        resources={"requests": {"cpu": serving.resources.cpu, "memory": serving.resources.memory}},
        autoscaling={}
        if autoscaling is None
        else {
            "min_replicas": autoscaling.min_replicas,
            "max_replicas": autoscaling.max_replicas,
            "target_cpu_utilization": autoscaling.target_cpu_utilization,
        },
        prediction_log=PredictionLogSettings(
            path=log.path if log and log.path else f"{DEFAULT_LOG_ROOT}/{env}",
            store=log.store.url if log and log.store else None,
            store_options=dict(log.store.options) if log and log.store else {},
            rotate_rows=log.max_rows_per_file if log else 10_000,
        ),
        validation=_validation(manifest, env),
    )


def _validation(manifest: Manifest, env: str) -> ValidationSettings:
    from mlops_gitops.monitoring.config import load_monitoring_config

    config = load_monitoring_config(manifest.monitoring, origin=f"envs/{env}.yaml")
    return ValidationSettings(
        enabled=config.validation.enabled,
        reject=config.validation.reject,
        reference=config.reference,
        range_tolerance=config.quality.range_tolerance,
    )


def restrict_plan(plan: ServingPlan, only: tuple[str, ...]) -> ServingPlan:
    """Keep only the models (``NAME``) or single versions (``NAME=VERSION``) named in ``only``.

    A kept single version takes all of its model's traffic (used when an
    engine such as KServe splits traffic between revisions itself).

    Raises:
        ServingError: a name or version is not in the plan.
    """
    if not only:
        return plan
    kept = []
    for item in only:
        name, _, version = item.partition("=")
        model = plan.model(name)
        if version:
            chosen = [v for v in model.variants if v.version == version]
            if not chosen:
                pinned = ", ".join(v.version for v in model.variants)
                raise ServingError(f"--only {item}: '{plan.env}' pins {name} at {pinned}")
            model = ModelPlan(name, (replace(chosen[0], weight=1.0),))
        kept.append(model)
    return replace(plan, models=tuple(kept))
