"""Every test case of the reference project's policies, collected by pytest (like 'opa test').

Each case of ``policies/*.yaml`` becomes one pytest item named ``rule-id::case``,
so a failing policy case fails the suite and names its file and line.
"""

from __future__ import annotations

import pytest

from mlops_gitops.policies import list_policy_cases, load_policy_set, run_policy_case
from mlops_gitops.project import template_root

CASES = list_policy_cases(load_policy_set(template_root() / "policies"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_case(case):
    result = run_policy_case(case)
    assert result.passed, f"{result.source}: {result.detail}"


def test_every_starter_rule_has_a_passing_and_a_failing_case():
    outcomes: dict[str, set[str]] = {}
    for case in CASES:
        outcomes.setdefault(case.rule.id, set()).add(case.case.expect)
    for rule, seen in outcomes.items():
        assert "pass" in seen and seen & {"warn", "block"}, rule
