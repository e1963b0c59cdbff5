"""The set of loaded models a server answers with, and traffic routing between versions.

A :class:`ModelSet` is immutable: a reload builds a new one in the
background and the server swaps a single reference, so a request keeps the
set it started with. Artifacts are fetched by content hash through DVC and
verified before ONNX Runtime opens them.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from mlops_gitops import pipeline
from mlops_gitops.errors import MlopsError, PipelineError
from mlops_gitops.serving.model import ServingError, VersionSession, open_version_session
from mlops_gitops.serving.plan import ModelPlan, ServingPlan, Strategy

logger = logging.getLogger(__name__)

_SCALE = float(1 << 64)


@dataclass(frozen=True, kw_only=True)
class ServedModel:
    """A model name with its loaded versions and their cumulative traffic weights."""

    name: str
    strategy: Strategy
    versions: Mapping[str, VersionSession]
    order: tuple[str, ...]
    cumulative: tuple[float, ...]
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @property
    def primary(self) -> VersionSession:
        """Return the stable version (the first pinned one)."""
        return self.versions[self.order[0]]

    def route(self, key: bytes | None) -> VersionSession:
        """Pick the version that serves a request.

        With a routing key the choice is a hash of the key and the model name,
        so one client always reaches the same version; without one it is a
        weighted random draw.
        """
        if len(self.order) == 1:
            return self.versions[self.order[0]]
        if key is None:
            point = self._rng.random()
        else:
            digest = hashlib.blake2b(key, digest_size=8, person=b"mlops-route").digest()
            point = int.from_bytes(digest, "big") / _SCALE
        index = min(bisect_right(self.cumulative, point), len(self.order) - 1)
        return self.versions[self.order[index]]

    def version(self, version: str) -> VersionSession:
        """Return an explicitly addressed version."""
        found = self.versions.get(version)
        if found is None:
            known = ", ".join(self.order)
            raise ServingError(f"model '{self.name}' has no loaded version '{version}' ({known})")
        return found


@dataclass(frozen=True)
class ModelSet:
    """Every model an environment serves, loaded and ready to score."""

    env: str
    models: Mapping[str, ServedModel]
    loaded_at: float
    # "model@version" -> whether requests are validated, and why not (readiness details)
    validation: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def get(self, name: str) -> ServedModel | None:
        """Return the served model ``name``, or None."""
        return self.models.get(name)

    def all_versions(self) -> list[VersionSession]:
        """Return every loaded version of every model."""
        return [m.versions[v] for m in self.models.values() for v in m.order]


def load_model_set(plan: ServingPlan, *, threads: int = 1) -> ModelSet:
    """Fetch, verify and load every version ``plan`` pins.

    Raises:
        ServingError: an artifact is missing, differs from its pinned hash or is not loadable.
    """
    models = {m.name: _load_served(plan, m, threads=threads) for m in plan.models}
    logger.info(
        "loaded %d model version(s) for '%s'", sum(len(m.order) for m in models.values()), plan.env
    )
    return ModelSet(plan.env, models, time.time())


def _load_served(plan: ServingPlan, model: ModelPlan, *, threads: int) -> ServedModel:
    versions: dict[str, VersionSession] = {}
    for variant in model.variants:
        what = f"{model.name}@{variant.version}"
        try:
            path = pipeline.fetch_object(plan.root, variant.md5)
        except PipelineError as exc:
            raise ServingError(f"{what}: cannot fetch {variant.path} (md5 {variant.md5})") from exc
        versions[variant.version] = open_version_session(
            path, name=model.name, version=variant.version, md5=variant.md5, threads=threads
        )
        if variant.version in model.signed:
            _check_signed(path, model.signed[variant.version], what=what)
    _check_same_inputs(model.name, list(versions.values()))
    order = tuple(v.version for v in model.variants)
    cumulative = tuple(accumulate(v.weight for v in model.variants))
    return ServedModel(
        name=model.name,
        strategy=model.strategy,
        versions=versions,
        order=order,
        cumulative=cumulative,
    )


def _check_signed(path: Path, sha256: str, *, what: str) -> None:
    from mlops_gitops.registry.signing import check_bytes

    try:
        check_bytes(path, sha256, what=what)
    except MlopsError as exc:
        raise ServingError(str(exc)) from exc


def _check_same_inputs(name: str, loaded: list[VersionSession]) -> None:
    first = loaded[0]
    for other in loaded[1:]:
        if other.schema.features != first.schema.features:
            raise ServingError(
                f"model '{name}': versions {first.version} and {other.version} take different "
                "inputs; split traffic only between versions with the same feature columns"
            )
