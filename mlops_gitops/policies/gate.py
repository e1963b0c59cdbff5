"""The merge gate: build the bundle, evaluate the policies, keep the record.

A gate record (``.mlops/gate/<head>.json`` unless another path is given)
holds the evidence bundle and the decision, so that the decision can be
replayed from the record alone: :func:`replay_gate` evaluates the
policies on the recorded bundle and gives the identical decision as long
as the policies are the same (the record carries their digest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_gitops.documents import parse_json
from mlops_gitops.policies.bundle import EvidenceBundle, parse_bundle
from mlops_gitops.policies.collect import POLICIES_DIR, GateRequest, Timings, build_bundle
from mlops_gitops.policies.judge import PolicyDecision, evaluate_policies
from mlops_gitops.policies.rules import load_policy_set
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.roundtrip import write_atomic

RECORD_DIR = ".mlops/gate"
_RANK = {"pass": 0, "warn": 1, "block": 2}
RECORD_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """A decision with its bundle, the record written, and (on replay) the recorded decision."""

    decision: PolicyDecision
    bundle: EvidenceBundle
    record: Path | None = None
    recorded: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def matches_record(self) -> bool | None:
        """On replay, whether the decision equals the recorded one (None without a record)."""
        return None if self.recorded is None else self.recorded == self.decision.to_json()


def run_gate(request: GateRequest, *, output: Path | None = None) -> GateResult:
    """Decide whether the change at ``request.root`` may merge, and write the gate record.

    Raises:
        PolicyError: a policy, roles or waivers file is not valid, evidence is missing,
            or a rule cannot be evaluated (an error, not a decision).
    """
    timings = Timings()
    policy_set = timings.run("policies", lambda: load_policy_set(request.root / POLICIES_DIR))
    bundle = build_bundle(request, timings=timings)
    decision = timings.run("evaluate", lambda: evaluate_policies(policy_set, bundle))
    for model in bundle.change.other_models if bundle.change else []:
        # a change that edits several models is judged once per model; the worst decides
        other = build_bundle(replace(request, model=model))
        judged = evaluate_policies(policy_set, other)
        if _RANK[judged.verdict] > _RANK[decision.verdict]:
            bundle, decision = other, judged
    path = output or request.root / RECORD_DIR / f"{bundle.target.head}.json"
    timings.run("record", lambda: write_record(path, bundle, decision))
    return GateResult(decision=decision, bundle=bundle, record=path, timings=timings.seconds)


def replay_gate(root: Path, bundle_file: Path) -> GateResult:
    """Evaluate the policies of ``root`` on a recorded bundle (a gate record or a bare bundle)."""
    policy_set = load_policy_set(root / POLICIES_DIR)
    bundle, recorded = read_record(bundle_file)
    return GateResult(
        decision=evaluate_policies(policy_set, bundle), bundle=bundle, recorded=recorded
    )


def replay_record(root: Path, text: str, origin: str) -> GateResult:
    """Evaluate the policies of ``root`` on a gate record given as text (e.g. a git note).

    Raises:
        PolicyError: the text is not a gate record of this schema.
    """
    bundle, recorded = parse_record(text, origin)
    if recorded is None:
        raise PolicyError(f"{origin}: not a gate record; expected 'bundle' and 'decision'")
    policy_set = load_policy_set(root / POLICIES_DIR)
    return GateResult(
        decision=evaluate_policies(policy_set, bundle), bundle=bundle, recorded=recorded
    )


def write_record(path: Path, bundle: EvidenceBundle, decision: PolicyDecision) -> None:
    """Write the bundle and the decision as one JSON document, atomically."""
    record = {
        "record_version": RECORD_VERSION,
        "bundle": bundle.to_json(),
        "decision": decision.to_json(),
    }
    # compact: the indenting encoder is pure Python and costs 100 ms on a real bundle
    write_atomic(path, json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")


def read_record(path: Path) -> tuple[EvidenceBundle, dict[str, Any] | None]:
    """Read a gate record (bundle and decision) or a bare bundle file.

    Raises:
        PolicyError: the file is missing, not JSON, or not a bundle of this schema.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: file not found") from exc
    return parse_record(text, str(path))


def parse_record(text: str, origin: str) -> tuple[EvidenceBundle, dict[str, Any] | None]:
    """Parse a gate record (bundle and decision) or a bare bundle; ``origin`` names it in errors.

    Raises:
        PolicyError: the text is not JSON, or not a bundle of this schema.
    """
    data = parse_json(text, origin, error=PolicyError)
    if isinstance(data, dict) and "bundle" in data and "decision" in data:
        return parse_bundle(data["bundle"], origin), data["decision"]
    return parse_bundle(data, origin), None
