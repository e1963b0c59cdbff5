"""Every test case of this project's policies, collected by pytest (like `opa test`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlops_gitops.policies import list_policy_cases, load_policy_set, run_policy_case

CASES = list_policy_cases(load_policy_set(Path(__file__).resolve().parents[1] / "policies"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_case(case):
    result = run_policy_case(case)
    assert result.passed, f"{result.source}: {result.detail}"
