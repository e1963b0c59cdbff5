"""The evidence bundle: the one JSON document every policy rule sees.

The schema is versioned (:data:`SCHEMA_VERSION`) and documented field by
field; ``mlops policy schema`` prints its JSON schema, from which the docs
site renders the reference page. A section that no collector filled (no
deployed version yet, fairness before the fairness issue lands) is absent
from the document: rules guard it with ``has(...)`` or list it under
``requires``. Gate records store the bundle so a decision can be replayed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
)

from mlops_gitops.documents import RECORD, validate
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.supply.findings import Scan

SCHEMA_VERSION: Final = 1
Signature = Literal["G", "B", "U", "X", "Y", "R", "E", "N"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DecisionSubject(_Section):
    """What is being decided: a training branch or a promotion, into which environment."""

    kind: Literal["training", "promotion"] = Field(
        default="training", description="'promotion' when the change edits an environment manifest"
    )
    environment: str | None = Field(
        default=None, description="the target environment (--env, or the manifest the change edits)"
    )
    branch: str | None = Field(default=None, description="the branch under evaluation")
    head: str = Field(default="0" * 40, description="the commit under evaluation")
    base_ref: str | None = Field(default=None, description="the base as given (--base)")
    base: str | None = Field(default=None, description="the commit the base names")
    merge_base: str | None = Field(
        default=None, description="where the change forked from the base"
    )


class Snapshot(_Section):
    """A model's metrics and params: the candidate, the base or the deployed version."""

    model: str | None = Field(default=None, description="the model name (dvc.yaml 'artifacts')")
    version: str | None = Field(
        default=None, description="the registered version, when there is one"
    )
    source: Literal["workspace", "git", "registry", "manifest"] = Field(
        default="workspace", description="where the values were read"
    )
    commit: str | None = Field(default=None, description="the commit the values belong to")
    metrics: dict[str, float] = Field(
        default_factory=dict,
        description="numeric values of the DVC metrics files, nested keys joined with '.'",
    )
    params: dict[str, JsonValue] = Field(default_factory=dict, description="params.yaml as a tree")
    artifact_md5: str | None = Field(
        default=None, description="the model artifact's md5 from dvc.lock"
    )


class Deltas(_Section):
    """Candidate metric minus the compared metric, for every metric both have."""

    base: dict[str, float] = Field(default_factory=dict, description="against the base branch")
    deployed: dict[str, float] = Field(
        default_factory=dict, description="against the version deployed in the target environment"
    )


class ParamChanges(_Section):
    """Dotted keys of the params whose value differs from the compared side."""

    base: list[str] = Field(default_factory=list)
    deployed: list[str] = Field(default_factory=list)


class Validation(_Section):
    """The data-validation report of the candidate's data."""

    passed: bool = Field(description="the report's 'passed' flag")
    path: str = Field(description="the report file")
    report: dict[str, JsonValue] = Field(default_factory=dict, description="the report as written")


class Onnx(_Section):
    """The ONNX export's numeric equivalence with the trained model."""

    max_abs_diff: float = Field(description="largest absolute difference of the predictions")
    tolerance: float | None = Field(default=None, description="params 'export.tolerance'")


class Dataset(_Section):
    """One data output of dvc.lock, with its hash now and on the base."""

    md5: str
    base_md5: str | None = None
    changed: bool = Field(description="the hash differs from the base (or is new)")


class Change(_Section):
    """The manifest change of a promotion: which version goes where, and how."""

    manifest: str = Field(description="the manifest file changed")
    model: str
    version: str = Field(description="the version the change deploys")
    artifact_md5: str | None = None
    previous_version: str | None = Field(default=None, description="the serving version before")
    from_environment: str | None = Field(default=None, description="where the version ran before")
    to_environment: str
    strategy: Literal["direct", "canary", "ab"] = "direct"
    canary_weight: float | None = Field(default=None, description="percent of traffic, canary only")
    soak_hours: float | None = Field(
        default=None, description="hours the version has run in from_environment"
    )
    required_soak_hours: float | None = Field(
        default=None, description="the soak time envs/environments.yaml asks of from_environment"
    )
    other_models: list[str] = Field(
        default_factory=list,
        description="the other models the same manifest change edits (each judged on its own)",
    )


class PinMismatch(_Section):
    """A manifest pin whose artifact is not the one its version's registration records."""

    manifest: str = Field(description="the manifest, e.g. envs/prod.yaml")
    model: str
    version: str
    route: str = Field(description="stable, candidate, control, or the A/B variant's name")
    path: str = Field(description="the artifact path the manifest pins")
    md5: str = Field(description="the md5 the manifest pins")
    registered_path: str | None = Field(
        default=None, description="the path the registration records; absent when unregistered"
    )
    registered_md5: str | None = Field(
        default=None, description="the md5 the registration records; absent when unregistered"
    )


class Pins(_Section):
    """Every environment manifest's pins at the head commit, compared with the registry tags."""

    checked: int = Field(description="how many pins were compared")
    mismatches: list[PinMismatch] = Field(
        default_factory=list, description="the pins that disagree with their registration"
    )


class Review(_Section):
    """One approval as the gate judged it."""

    reviewer: str = Field(description="the identity as the provider gave it")
    person: str = Field(description="the person, after roles.yaml 'people' aliases")
    roles: list[str] = Field(default_factory=list, description="the teams the person belongs to")
    commit: str = Field(description="the commit the approval was given on")
    source: str = Field(description="the approval provider")
    on_head: bool
    self_approval: bool
    counted: bool = Field(description="on the head commit and not by an author")


class Approvals(_Section):
    """Approvals counted per role against the requirements of roles.yaml."""

    authors: list[str] = Field(default_factory=list, description="people who wrote the change")
    reviews: list[Review] = Field(default_factory=list)
    count: dict[str, int] = Field(
        default_factory=dict, description="counted approvals per team (every team present)"
    )
    required: dict[str, int] = Field(
        default_factory=dict, description="approvals the target environment requires, per team"
    )
    required_for_paths: dict[str, int] = Field(
        default_factory=dict, description="approvals the changed paths require, per team"
    )
    stale: list[str] = Field(
        default_factory=list, description="people whose approval is on an older commit"
    )
    self_approvals: list[str] = Field(default_factory=list, description="authors who approved")
    unattributed: list[str] = Field(
        default_factory=list,
        description="commits whose maker the forge could not establish (then nothing counts)",
    )


class Commit(_Section):
    """The head commit and the signatures of the change's commits."""

    sha: str = Field(default="0" * 40)
    author: str = Field(default="", description="author email of the head commit")
    signature: Signature = Field(default="N", description="git's %G? of the head commit")
    verified: bool = Field(default=False, description="the head commit has a good signature")
    unverified: list[str] = Field(
        default_factory=list, description="commits of the change without a good signature"
    )


class ModelCard(_Section):
    """The candidate's model card: its hand-written page and the sections a card needs."""

    present: bool = Field(description="the page exists and has every section a card needs")
    path: str | None = None
    missing_sections: list[str] = Field(
        default_factory=list, description="card sections the page lacks or leaves empty"
    )


class Fairness(_Section):
    """Placeholder filled by the fairness evaluation (metrics keys 'fairness.*')."""

    model_config = ConfigDict(extra="allow", frozen=True)
    demographic_parity_difference: float | None = None
    equalized_odds_difference: float | None = None


class Drift(_Section):
    """Placeholder filled by the monitoring issue."""

    model_config = ConfigDict(extra="allow", frozen=True)
    share_drifted: float | None = None
    drifted: bool | None = None


class Cost(_Section):
    """Placeholder filled by the cost issue."""

    model_config = ConfigDict(extra="allow", frozen=True)
    total: float | None = None
    budget: float | None = None


class WaiverScope(_Section):
    """Where a waiver applies; an omitted field matches anything."""

    model: str | None = None
    version: str | None = None
    environment: str | None = None


class Waiver(_Section):
    """One exception of policies/waivers.yaml: a rule waived in a scope until a date."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    rule: str = Field(description="the id of the waived rule")
    scope: WaiverScope = Field(default_factory=WaiverScope)
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: date = Field(description="last day (UTC) the waiver applies")
    finding: str | None = Field(
        default=None,
        description="one scan finding's id (rule scan-findings): it waives that finding only",
    )


class EvidenceBundle(_Section):
    """The evidence bundle, schema version 1."""

    schema_version: Literal[1] = SCHEMA_VERSION
    now: AwareDatetime = Field(description="the evaluation time (freeze windows, expiry)")
    target: DecisionSubject = Field(default_factory=DecisionSubject)
    candidate: Snapshot = Field(default_factory=Snapshot)
    base: Snapshot | None = Field(default=None, description="the base branch; absent without one")
    deployed: Snapshot | None = Field(
        default=None, description="the version serving in the target environment; absent when none"
    )
    deltas: Deltas = Field(default_factory=Deltas)
    params_changed: ParamChanges = Field(default_factory=ParamChanges)
    validation: Validation | None = None
    onnx: Onnx | None = None
    datasets: dict[str, Dataset] = Field(
        default_factory=dict, description="dvc.lock outs under data/"
    )
    datasets_changed: list[str] = Field(default_factory=list)
    change: Change | None = Field(
        default=None, description="the manifest change; absent on training branches"
    )
    approvals: Approvals = Field(default_factory=Approvals)
    changed_files: list[str] = Field(
        default_factory=list, description="git diff --name-only BASE...HEAD"
    )
    pins: Pins | None = Field(
        default=None, description="manifest pins against registrations; absent until collected"
    )
    commit: Commit = Field(default_factory=Commit)
    model_card: ModelCard | None = None
    fairness: Fairness | None = None
    drift: Drift | None = None
    cost: Cost | None = None
    scan: Scan | None = Field(default=None, description="policies/scan.yaml's scans, when set")
    waivers: list[Waiver] = Field(
        default_factory=list,
        description="policies/waivers.yaml (applied by the engine, not read by rules)",
    )

    @field_validator("now")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def model(self) -> str | None:
        """The model the decision is about (the promoted one, else the candidate)."""
        return self.change.model if self.change else self.candidate.model

    @property
    def version(self) -> str | None:
        """The version the decision is about, when there is one."""
        return self.change.version if self.change else self.candidate.version

    def activation(self) -> dict[str, Any]:
        """Return the variables rules see, times as timestamps.

        An absent section is an empty map, so ``has(fairness.x)`` is false
        rather than an error; an absent field inside a section is missing.
        """
        data = self.model_dump(mode="python", exclude_none=True, exclude={"waivers"})
        for name in _SECTIONS:
            data.setdefault(name, {})
        return data

    def to_json(self) -> dict[str, Any]:
        """Return the bundle as JSON types (what a gate record stores)."""
        return self.model_dump(mode="json", exclude_none=True)


_SECTIONS = (
    "base",
    "deployed",
    "validation",
    "onnx",
    "change",
    "pins",
    "model_card",
    "fairness",
    "drift",
    "cost",
    "scan",
)


def bundle_json_schema() -> dict[str, Any]:
    """Return the JSON schema of the evidence bundle."""
    schema = EvidenceBundle.model_json_schema()
    schema["$id"] = f"https://mlops-gitops.dev/schemas/evidence-bundle/{SCHEMA_VERSION}.json"
    return schema


def parse_bundle(data: Any, origin: str) -> EvidenceBundle:
    """Validate ``data`` as a bundle; ``origin`` names it in errors."""
    if isinstance(data, dict) and data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise PolicyError(
            f"{origin}: bundle schema_version {data['schema_version']!r} is not supported; "
            f"this version reads {SCHEMA_VERSION}"
        )
    return validate(EvidenceBundle, data, origin, error=PolicyError, wording=RECORD)
