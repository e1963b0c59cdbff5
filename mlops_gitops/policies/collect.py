"""Build the evidence bundle of a change from the repository.

One collector per source, each a small function: the revisions (git), the
candidate and base snapshots (DVC files), the promotion (manifests and
registry), approvals (providers and ``roles.yaml``), waivers, and the
placeholders later concepts fill (fairness from ``fairness.*`` metrics;
the model card from ``docs/models/<model>.md``; drift and cost stay absent
until their collectors exist).
DVC is never run: every value is read from a file or from Git.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from mlops_gitops.policies.approvals import ApprovalProvider, Roles, assess_approvals, load_roles
from mlops_gitops.policies.bundle import (
    Approvals,
    DecisionSubject,
    Deltas,
    EvidenceBundle,
    Fairness,
    ModelCard,
    ParamChanges,
    Snapshot,
    Waiver,
)
from mlops_gitops.policies.pins_evidence import collect_pins
from mlops_gitops.policies.promotion import PromotionEvidence, read_promotion
from mlops_gitops.policies.revisions import Revisions, read_revisions
from mlops_gitops.policies.rules import ROLES_FILE, WAIVERS_FILE
from mlops_gitops.policies.snapshots import (
    changed_params,
    dataset_evidence,
    deltas,
    onnx_evidence,
    read_base,
    read_pipeline,
    read_validation,
    read_workspace,
)
from mlops_gitops.policies.waivers import load_waivers

log = logging.getLogger(__name__)

POLICIES_DIR = "policies"
FAIRNESS_PREFIX = "fairness."
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class GateRequest:
    """What to decide: the repository, the target, the base and where approvals come from."""

    root: Path
    environment: str | None = None
    base: str = "main"
    branch: str | None = None
    approvals: tuple[ApprovalProvider, ...] = ()
    now: datetime | None = None
    model: str | None = None


@dataclass
class Timings:
    """Seconds spent in each collector (for ``-v`` and the benchmark)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, step: Callable[[], T]) -> T:
        """Run ``step`` and record its time under ``name``."""
        start = time.perf_counter()
        try:
            return step()
        finally:
            self.seconds[name] = time.perf_counter() - start
            log.debug("collector %s: %.1f ms", name, self.seconds[name] * 1000)


def build_bundle(request: GateRequest, *, timings: Timings | None = None) -> EvidenceBundle:
    """Return the evidence bundle of the change at ``request.root``.

    Raises:
        PolicyError: a file the gate reads is missing or not valid, or a revision is unknown.
        MlopsError: the registry or a manifest is not valid (from those concepts).
    """
    clock = timings or Timings()
    root = request.root
    now = (request.now or datetime.now(UTC)).astimezone(UTC)
    roles, waivers = clock.run("roles and waivers", lambda: read_roles_and_waivers(root))
    revs = clock.run(
        "git", lambda: read_revisions(root, base_ref=request.base, branch=request.branch)
    )
    pipe = clock.run("dvc.yaml", lambda: read_pipeline(root))
    workspace, lock = clock.run("workspace", lambda: read_workspace(root, pipe))
    base, base_lock = clock.run("base", lambda: read_base(root, revs.base, pipe))
    promotion = clock.run("registry", lambda: _promotion(request, revs, workspace, now))
    candidate = promotion.promoted or workspace
    datasets, changed = dataset_evidence(lock, base_lock)
    bundle = EvidenceBundle(
        now=now,
        target=_target(revs, promotion),
        candidate=candidate,
        base=base,
        deployed=promotion.deployed,
        deltas=_deltas(candidate, base, promotion.deployed),
        params_changed=_param_changes(candidate, base, promotion.deployed),
        validation=read_validation(root),
        onnx=onnx_evidence(candidate.metrics, candidate.params),
        datasets=datasets,
        datasets_changed=changed,
        change=promotion.change,
        approvals=clock.run("approvals", lambda: _approvals(request, revs, roles, promotion)),
        changed_files=list(revs.changed_files),
        pins=clock.run("pins", lambda: collect_pins(root, rev=revs.head)),
        commit=revs.commit_evidence(),
        fairness=fairness_evidence(candidate.metrics),
        model_card=model_card_evidence(root, candidate.model),
        waivers=waivers,
    )
    return clock.run("scan", lambda: with_scan(bundle, root))


def with_scan(bundle: EvidenceBundle, root: Path) -> EvidenceBundle:
    """Return ``bundle`` with the ``scan`` section when ``policies/scan.yaml`` asks for scans."""
    from mlops_gitops.supply.scan import ScanScope, scan_evidence

    scope = ScanScope(
        now=bundle.now,
        waivers=bundle.waivers,
        model=bundle.model,
        version=bundle.version,
        environment=bundle.target.environment,
    )
    scan = scan_evidence(root, changed=bundle.changed_files, scope=scope)
    return bundle if scan is None else bundle.model_copy(update={"scan": scan})


def _promotion(
    request: GateRequest, revs: Revisions, workspace: Snapshot, now: datetime
) -> PromotionEvidence:
    return read_promotion(
        request.root,
        revs,
        environment=request.environment,
        model=workspace.model,
        now=now,
        judged=request.model,
    )


def read_roles_and_waivers(root: Path) -> tuple[Roles, list[Waiver]]:
    """Read ``policies/roles.yaml`` and ``policies/waivers.yaml`` (each may be missing)."""
    folder = root / POLICIES_DIR
    roles = load_roles(folder / ROLES_FILE, f"{POLICIES_DIR}/{ROLES_FILE}")
    return roles, load_waivers(folder / WAIVERS_FILE, f"{POLICIES_DIR}/{WAIVERS_FILE}", roles)


def _target(revs: Revisions, promotion: PromotionEvidence) -> DecisionSubject:
    return DecisionSubject(
        kind="promotion" if promotion.change is not None else "training",
        environment=promotion.environment,
        branch=revs.branch,
        head=revs.head,
        base_ref=revs.base_ref,
        base=revs.base,
        merge_base=revs.merge_base,
    )


def _deltas(candidate: Snapshot, base: Snapshot, deployed: Snapshot | None) -> Deltas:
    return Deltas(
        base=deltas(candidate.metrics, base.metrics),
        deployed=deltas(candidate.metrics, deployed.metrics) if deployed else {},
    )


def _param_changes(candidate: Snapshot, base: Snapshot, deployed: Snapshot | None) -> ParamChanges:
    return ParamChanges(
        base=changed_params(candidate.params, base.params),
        deployed=changed_params(candidate.params, deployed.params) if deployed else [],
    )


def _approvals(
    request: GateRequest, revs: Revisions, roles: Roles, promotion: PromotionEvidence
) -> Approvals:
    sets = [provider.read_approvals(request.root, revs.head) for provider in request.approvals]
    return assess_approvals(
        roles,
        sets,
        head=revs.head,
        authors=revs.authors,
        environment=promotion.environment,
        changed_files=revs.changed_files,
    )


def model_card_evidence(root: Path, model: str | None) -> ModelCard | None:
    """Return whether ``docs/models/<model>.md`` has every section the model card shows."""
    if model is None:
        return None
    from mlops_gitops.site.data import DOC_SECTIONS, MODEL_DOCS, split_sections

    path = f"{MODEL_DOCS}/{model}.md"
    page = root / path
    if not page.is_file():
        return ModelCard(present=False, path=path, missing_sections=sorted(DOC_SECTIONS))
    sections = split_sections(page.read_text(encoding="utf-8"))
    missing = sorted(
        key for key, titles in DOC_SECTIONS.items() if not any(sections.get(t) for t in titles)
    )
    return ModelCard(present=not missing, path=path, missing_sections=missing)


def fairness_evidence(metrics: dict[str, float]) -> Fairness | None:
    """Return the fairness section from ``fairness.*`` metrics, or None when there are none."""
    values = {
        key.removeprefix(FAIRNESS_PREFIX): value
        for key, value in metrics.items()
        if key.startswith(FAIRNESS_PREFIX) and "." not in key.removeprefix(FAIRNESS_PREFIX)
    }
    return Fairness(**values) if values else None
