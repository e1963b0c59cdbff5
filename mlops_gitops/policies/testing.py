"""Policy tests: the test cases rules carry, run like ``opa test``.

Each case is a bundle fragment merged over a minimal bundle (evaluated at
``2026-01-15T10:00:00Z`` unless it sets ``now``) and the outcome the rule
must give on it, optionally with text its message must contain. Every case
runs even when others fail; the project's pytest collects the same cases
(see ``tests/policies/test_policy_files.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops.policies.bundle import EvidenceBundle, parse_bundle
from mlops_gitops.policies.engine import Activation
from mlops_gitops.policies.judge import evaluate_rule
from mlops_gitops.policies.rules import LoadedRule, Outcome, PolicySet, RuleCase, load_policy_set
from mlops_gitops.policies.source import PolicyError

CASE_BASE: dict[str, Any] = {"now": "2026-01-15T10:00:00Z"}


@dataclass(frozen=True)
class PolicyCase:
    """One test case of one rule, and where it is written."""

    rule: LoadedRule
    case: RuleCase
    line: int

    @property
    def name(self) -> str:
        """``rule-id::case name``."""
        return f"{self.rule.id}::{self.case.name}"

    @property
    def source(self) -> str:
        """``file:line`` of the case."""
        return f"{self.rule.origin}:{self.line}"


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    """The result of one case: what was expected, what came, and why it failed."""

    rule: str
    name: str
    source: str
    expected: Outcome
    actual: Outcome | None
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class PolicyTestReport:
    """The results of every case of a policy set."""

    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every case passed."""
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        """The cases that failed."""
        return tuple(r for r in self.results if not r.passed)


def list_policy_cases(policy_set: PolicySet) -> list[PolicyCase]:
    """Return every test case of every rule, in file order."""
    return [
        PolicyCase(rule=rule, case=case, line=line)
        for rule in policy_set.rules
        for case, line in zip(rule.rule.tests, rule.test_lines, strict=True)
    ]


def case_bundle(case: PolicyCase) -> EvidenceBundle:
    """Return the bundle of a case: its fragment merged over the minimal bundle."""
    return parse_bundle(
        merge(CASE_BASE, case.case.bundle), f"{case.source} test '{case.case.name}'"
    )


def merge(base: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``fragment`` merged in, mappings merged key by key."""
    out = dict(base)
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def run_policy_case(case: PolicyCase) -> CaseResult:
    """Run one case; an error of the rule or of the fragment fails the case."""
    expected = case.case.expect
    try:
        bundle = case_bundle(case)
        result = evaluate_rule(case.rule, bundle, Activation(bundle.activation()), bundle.to_json())
    except PolicyError as exc:
        return _result(case, None, str(exc))
    wanted = case.case.message
    if result.outcome != expected:
        return _result(
            case,
            result.outcome,
            f"expected {expected}, got {result.outcome}: {result.message or result.note}",
        )
    if wanted is not None and wanted not in result.message:
        return _result(
            case, result.outcome, f"message {result.message!r} does not contain {wanted!r}"
        )
    return _result(case, result.outcome, "")


def _result(case: PolicyCase, actual: Outcome | None, detail: str) -> CaseResult:
    return CaseResult(
        rule=case.rule.id,
        name=case.case.name,
        source=case.source,
        expected=case.case.expect,
        actual=actual,
        passed=not detail,
        detail=detail,
    )


def run_policy_tests(folder: Path, *, origin: str = "policies") -> PolicyTestReport:
    """Load the rules of ``folder`` and run every test case they carry."""
    policy_set = load_policy_set(folder, origin=origin)
    return PolicyTestReport(tuple(run_policy_case(c) for c in list_policy_cases(policy_set)))
