"""The documented schema of ``envs/*.yaml`` and ``envs/environments.yaml``.

An environment manifest says which model versions run in one environment,
pinned by the artifact hash of their registration, how traffic is split
between versions (the rollout), the serving settings and the monitoring
settings. ``environments.yaml`` declares the environments in promotion
order and which environment feeds which. :func:`manifest_json_schema`
returns the JSON schema of both files (rendered by the docs site).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlops_gitops.manifests.conventions import (
    DURATION,
    ENV_NAME,
    MD5,
    MODEL_NAME,
    QUANTITY,
    SEMVER,
)

DURATION_RE = re.compile(r"(\d+)([wdhms])")
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

Version = Annotated[
    str, Field(pattern=f"^{SEMVER}$", description="a SemVer version with a leading v")
]
Weight = Annotated[int, Field(ge=1, le=99, description="percent of the traffic, 1 to 99")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(_Strict):
    """Where a model version's artifact lives and its content hash (from ``dvc.lock``)."""

    path: str = Field(min_length=1, description="the artifact path in the repository")
    md5: str = Field(pattern=f"^{MD5}$", description="the md5 recorded by dvc.lock")

    @field_validator("md5", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                "an unquoted md5 of digits is a number to YAML (leading zeros lost); "
                "write it in quotes, as 'mlops promote' does"
            )
        return value


class Pin(_Strict):
    """A model version pinned by its artifact."""

    version: Version
    artifact: Artifact


class Route(_Strict):
    """One share of a model's traffic: which version, which artifact, what weight."""

    name: str
    version: str
    artifact: Artifact
    weight: int


class DirectRollout(_Strict):
    """All traffic goes to ``version``."""

    strategy: Literal["direct"] = "direct"


class CanaryRollout(_Strict):
    """``weight`` percent of the traffic goes to ``candidate``, the rest to ``version``."""

    strategy: Literal["canary"]
    weight: Weight
    candidate: Pin


class Variant(Pin):
    """One arm of an A/B split besides the control (``version``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    weight: Weight


class ABRollout(_Strict):
    """An A/B split: each variant gets its weight; the control gets what remains."""

    strategy: Literal["ab"]
    variants: list[Variant] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_weights(self) -> ABRollout:
        total = sum(v.weight for v in self.variants)
        if total >= 100:
            raise ValueError(f"variant weights sum to {total}; they must leave the control over 0")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names) or "control" in names:
            raise ValueError("variant names must be unique and not 'control'")
        return self


Rollout = Annotated[DirectRollout | CanaryRollout | ABRollout, Field(discriminator="strategy")]


class ModelDeployment(_Strict):
    """One model in an environment: its serving version and how traffic reaches it."""

    version: Version
    artifact: Artifact
    rollout: Rollout = Field(default_factory=DirectRollout)

    def routes(self) -> list[Route]:
        """Return the traffic split as routes whose weights sum to 100."""
        rollout = self.rollout
        if isinstance(rollout, CanaryRollout):
            return [
                Route(
                    name="stable",
                    version=self.version,
                    artifact=self.artifact,
                    weight=100 - rollout.weight,
                ),
                Route(name="candidate", weight=rollout.weight, **rollout.candidate.model_dump()),
            ]
        if isinstance(rollout, ABRollout):
            rest = 100 - sum(v.weight for v in rollout.variants)
            control = Route(
                name="control", version=self.version, artifact=self.artifact, weight=rest
            )
            return [control, *(Route(**v.model_dump()) for v in rollout.variants)]
        return [Route(name="stable", version=self.version, artifact=self.artifact, weight=100)]

    def running_versions(self) -> list[str]:
        """Return every version that receives traffic (stable, candidate, variants)."""
        return [route.version for route in self.routes()]


class Resources(_Strict):
    """Kubernetes-style resource requests of one replica."""

    cpu: str = Field(
        default="1", pattern=f"^{QUANTITY}$", description="CPU cores, e.g. '500m' or '2'"
    )
    memory: str = Field(default="1Gi", pattern=f"^{QUANTITY}$", description="memory, e.g. '512Mi'")

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _quantity_as_text(cls, value: object) -> object:
        return (
            str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        )


class Autoscaling(_Strict):
    """Horizontal autoscaling bounds."""

    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=1, ge=1)
    target_cpu_utilization: int = Field(default=70, ge=1, le=100, description="percent")

    @model_validator(mode="after")
    def _check_bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas})"
            )
        return self


# Storage options that carry a secret: credentials come from the environment only.
SECRET_OPTIONS = re.compile(r"key|secret|token|password|credential|connection_string|sas", re.I)


class Store(_Strict):
    """The durable store of prediction logs and feedback: an fsspec URL and its options."""

    url: str = Field(
        min_length=1,
        description="a shared path, s3://bucket/prefix, gs://bucket/prefix or az://container/prefix",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec storage options without secrets, e.g. endpoint_url, client_kwargs",
    )

    @field_validator("options")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in _option_names(value):
            if SECRET_OPTIONS.search(name):
                raise ValueError(
                    f"'{name}' looks like a credential; credentials come from the environment"
                    " (a Kubernetes Secret), never from the manifest"
                )
        return value


def _option_names(options: dict[str, Any]) -> list[str]:
    names = []
    for name, value in options.items():
        names.append(str(name))
        if isinstance(value, dict):
            names += _option_names(value)
    return names


class PredictionLog(_Strict):
    """Where the server logs predictions and feedback (for monitoring)."""

    path: str | None = Field(default=None, min_length=1, description="a local folder")
    store: Store | None = Field(default=None, description="a durable store; overrides path")
    max_rows_per_file: int = Field(default=10000, ge=1)


class Serving(_Strict):
    """How the environment serves its models."""

    replicas: int = Field(default=1, ge=0)
    resources: Resources = Field(default_factory=Resources)
    autoscaling: Autoscaling | None = None
    prediction_log: PredictionLog | None = None


class Manifest(_Strict):
    """An environment manifest: ``envs/ENV.yaml``."""

    models: dict[Annotated[str, Field(pattern=f"^{MODEL_NAME}$")], ModelDeployment] = Field(
        default_factory=dict
    )
    serving: Serving = Field(default_factory=Serving)
    monitoring: dict[str, Any] = Field(
        default_factory=dict, description="monitoring settings, validated by the monitoring module"
    )

    @field_validator("models", "monitoring", mode="before")
    @classmethod
    def _empty_as_mapping(cls, value: object) -> object:
        return {} if value is None else value


class EnvironmentSpec(_Strict):
    """One environment of ``environments.yaml``."""

    feeds: list[Annotated[str, Field(pattern=f"^{ENV_NAME}$")]] = Field(
        default_factory=list, description="the environments this one may promote into"
    )
    soak: str | None = Field(
        default=None,
        pattern=f"^{DURATION}$",
        description="how long a version must run here before it may be promoted on, e.g. 24h",
    )
    signed_models: bool = Field(
        default=False,
        description=(
            "serve and verify here only versions whose registration tag is SSH-signed "
            "by a key of policies/allowed_signers"
        ),
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _empty_as_list(cls, value: object) -> object:
        return [] if value is None else value

    def soak_seconds(self) -> int:
        """Return the soak time in seconds (0 when none is set)."""
        return sum(int(n) * _SECONDS[unit] for n, unit in DURATION_RE.findall(self.soak or ""))


class Environments(_Strict):
    """``envs/environments.yaml``: the environments in promotion order."""

    environments: dict[Annotated[str, Field(pattern=f"^{ENV_NAME}$")], EnvironmentSpec] = Field(
        min_length=1
    )

    @field_validator("environments", mode="before")
    @classmethod
    def _empty_specs(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("environments")
    @classmethod
    def _check_feeds(cls, value: dict[str, EnvironmentSpec]) -> dict[str, EnvironmentSpec]:
        order = list(value)
        for name, spec in value.items():
            for target in spec.feeds:
                if target not in value:
                    raise ValueError(f"{name} feeds unknown environment '{target}'")
                if order.index(target) <= order.index(name):
                    raise ValueError(
                        f"{name} may only feed an environment listed after it, not '{target}'"
                    )
        return value

    @property
    def order(self) -> list[str]:
        """Return the environment names in promotion order."""
        return list(self.environments)

    def sources(self, env: str) -> list[str]:
        """Return the environments that feed ``env`` (empty for an entry environment)."""
        return [name for name, spec in self.environments.items() if env in spec.feeds]


def manifest_json_schema() -> dict[str, Any]:
    """Return the JSON schemas of the manifest and of ``environments.yaml``."""
    return {
        "manifest": Manifest.model_json_schema(),
        "environments": Environments.model_json_schema(),
    }
