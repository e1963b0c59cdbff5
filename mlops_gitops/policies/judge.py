"""Evaluate a policy set on an evidence bundle: one explained result per rule.

The decision lists every rule with its outcome (``pass``, ``warn``,
``block``, ``skip``, ``waived``, or ``error`` for a rule whose CEL cost on
this bundle is over the budget: not run, and it blocks), the values it compared, its rendered
message and the waiver it cites. It is a value: this module never
publishes it (the forge does) and never writes it (the gate does).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any, Literal

from pydantic import JsonValue

from mlops_gitops.policies.builtin import builtin_results
from mlops_gitops.policies.bundle import SCHEMA_VERSION, EvidenceBundle
from mlops_gitops.policies.engine import Activation, OverBudget, format_path
from mlops_gitops.policies.fields import is_absent, value_at
from mlops_gitops.policies.rules import LoadedRule, Outcome, PolicySet, Scope, Severity
from mlops_gitops.policies.waivers import is_expired, match_waivers

Verdict = Literal["pass", "warn", "block"]


@dataclass(frozen=True, kw_only=True)
class RuleResult:
    """The outcome of one rule, with what it compared and why."""

    id: str
    outcome: Outcome
    severity: Severity | None
    message: str
    values: dict[str, JsonValue]
    waiver: str | None = None
    note: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class PolicyDecision:
    """The gate's decision: the overall verdict and every rule's result."""

    verdict: Verdict
    results: tuple[RuleResult, ...]
    head: str
    environment: str | None
    model: str | None
    version: str | None
    expired_waivers: tuple[str, ...]
    policies_digest: str
    bundle_digest: str
    schema_version: int = SCHEMA_VERSION

    @property
    def blocked(self) -> bool:
        """Whether a rule blocked the change."""
        return self.verdict == "block"

    def counts(self) -> dict[str, int]:
        """Return how many rules gave each outcome."""
        out = dict.fromkeys(("pass", "warn", "waived", "block", "skip", "error"), 0)
        for result in self.results:
            out[result.outcome] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the decision as JSON types (what a gate record stores).

        Shallow on purpose: every value is JSON already (``dataclasses.asdict``
        deep-copies them, a fifth of the gate's time on a real bundle).
        """
        out = _fields(self)
        out["results"] = [_fields(result) for result in self.results]
        out["expired_waivers"] = list(self.expired_waivers)
        return out


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in fields(value)}


def evaluate_policies(policy_set: PolicySet, bundle: EvidenceBundle) -> PolicyDecision:
    """Evaluate every rule of ``policy_set`` on ``bundle``.

    A rule whose cost on this bundle is over the CEL budget is not run: its
    outcome is ``error`` and the verdict is ``block`` (fail closed).

    Raises:
        PolicyError: a rule could not be evaluated (type error, unguarded absent
            field, non-bool result); the message names its ``file:line`` and id.
    """
    activation = Activation(bundle.activation())
    plain = bundle.to_json()
    results = tuple(evaluate_rule(rule, bundle, activation, plain) for rule in policy_set.rules)
    results += builtin_results(bundle)
    verdicts = {r.outcome for r in results}
    verdict: Verdict = (
        "block"
        if verdicts & {"block", "error"}
        else "warn"
        if verdicts & {"warn", "waived"}
        else "pass"
    )
    return PolicyDecision(
        verdict=verdict,
        results=results,
        head=bundle.target.head,
        environment=bundle.target.environment,
        model=bundle.model,
        version=bundle.version,
        expired_waivers=tuple(w.id for w in bundle.waivers if is_expired(w, bundle.now)),
        policies_digest=policy_set.digest,
        bundle_digest=digest_bundle(bundle),
    )


def digest_bundle(bundle: EvidenceBundle) -> str:
    """Return the sha256 of the bundle's canonical JSON."""
    text = json.dumps(bundle.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def evaluate_rule(
    loaded: LoadedRule, bundle: EvidenceBundle, activation: Activation, plain: dict[str, Any]
) -> RuleResult:
    """Evaluate one rule (``plain`` is the bundle as JSON, for the values shown)."""
    rule = loaded.rule
    skip = _skip(loaded, bundle)
    if skip:
        return RuleResult(
            id=rule.id, outcome="skip", severity=None, message="", values={}, note=skip,
            source=loaded.source,
        )  # fmt: skip
    severity = rule.severity_for(bundle.target.environment)
    if severity is None:
        note = f"no severity set for environment {bundle.target.environment or '(none)'}"
        return RuleResult(
            id=rule.id, outcome="skip", severity=None, message="", values={}, note=note,
            source=loaded.source,
        )  # fmt: skip
    activation.bind_vars(rule.vars)
    values = {format_path(p): _value(plain, rule.vars, p) for p in loaded.reads}
    absent = [format_path(p) for p in loaded.requires if is_absent(plain, p)]
    if absent and rule.when_absent == "skip":
        note = f"evidence absent: {', '.join(absent)}"
        return RuleResult(
            id=rule.id, outcome="skip", severity=None, message="", values=values, note=note,
            source=loaded.source,
        )  # fmt: skip
    if absent:
        failed: Severity = "block" if rule.when_absent == "block" else "warn"
        message = f"required evidence absent: {', '.join(absent)}"
        return _failed(loaded, bundle, failed, message=message, values=values)
    return _judge(loaded, bundle, activation, severity=severity, values=values)


def _judge(
    loaded: LoadedRule,
    bundle: EvidenceBundle,
    activation: Activation,
    *,
    severity: Severity,
    values: dict[str, JsonValue],
) -> RuleResult:
    rule = loaded.rule
    try:
        complies = loaded.check.evaluate(activation)
        message = loaded.template.render(activation)
    except OverBudget as exc:  # never run, never waived: the rule blocks
        note = "not evaluated: over the CEL cost budget"
        return RuleResult(
            id=rule.id,
            outcome="error",
            severity="block",
            message=str(exc),
            values=values,
            note=note,
            source=loaded.source,
        )
    if complies:
        return RuleResult(
            id=rule.id,
            outcome="pass",
            severity=severity,
            message=message,
            values=values,
            source=loaded.source,
        )
    return _failed(loaded, bundle, severity, message=message, values=values)


def _failed(
    loaded: LoadedRule,
    bundle: EvidenceBundle,
    severity: Severity,
    *,
    message: str,
    values: dict[str, JsonValue],
) -> RuleResult:
    rule = loaded.rule
    if not rule.waivable:
        return RuleResult(
            id=rule.id, outcome=severity, severity=severity, message=message, values=values,
            source=loaded.source,
        )  # fmt: skip
    match = match_waivers(
        bundle.waivers,
        rule.id,
        now=bundle.now,
        model=bundle.model,
        version=bundle.version,
        environment=bundle.target.environment,
    )
    expired = "; ".join(f"waiver {w.id} expired on {w.expires.isoformat()}" for w in match.expired)
    if match.active is None:
        return RuleResult(
            id=rule.id, outcome=severity, severity=severity, message=message, values=values,
            note=expired, source=loaded.source,
        )  # fmt: skip
    waiver = match.active
    note = (
        f"waived by {waiver.id} (approved by {waiver.approver}, "
        f"until {waiver.expires.isoformat()}): {waiver.reason}"
    )
    return RuleResult(
        id=rule.id, outcome="waived", severity=severity, message=message, values=values,
        waiver=waiver.id, note=note, source=loaded.source,
    )  # fmt: skip


def _value(plain: dict[str, Any], rule_vars: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    if path[0] == "vars":
        return value_at({"vars": rule_vars}, path)
    return value_at(plain, path)


def _skip(loaded: LoadedRule, bundle: EvidenceBundle) -> str:
    """Return why the rule does not apply to this change ('' when it does)."""
    where: Scope = loaded.rule.where
    target = bundle.target
    checks = (
        (where.kinds, [target.kind], "kind"),
        (where.environments, [target.environment] if target.environment else [], "environment"),
        (where.branches, [target.branch] if target.branch else [], "branch"),
        (where.models, [bundle.model] if bundle.model else [], "model"),
        (where.paths, bundle.changed_files, "changed files"),
    )
    for patterns, actual, label in checks:
        if patterns and not any(fnmatch.fnmatchcase(a, p) for a in actual for p in patterns):
            shown = (
                ", ".join(actual[:3]) + (", ..." if len(actual) > 3 else "") if actual else "(none)"
            )
            return f"not applicable: {label} {shown} not in [{', '.join(patterns)}]"
    return ""
