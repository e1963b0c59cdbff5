"""The cost budget of CEL: estimated when a rule loads, measured before it runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mlops_gitops.policies import lint_policies
from mlops_gitops.policies.cost import (
    BUDGET_VARIABLE,
    DEFAULT_BUDGET,
    CostLimits,
    estimate_cost,
    read_cost_limits,
)
from mlops_gitops.policies.engine import Activation, Expression, Spot, Template
from mlops_gitops.policies.rules import load_policy_set
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.syntax import MAX_HEIGHT, SyntaxProblem, parse
from mlops_gitops.project import template_root

SPOT = Spot(origin="policies/q.yaml", line=7, rule="deep", field="condition")
LIMITS = CostLimits()
THIRTY = "[" + ", ".join(str(i) for i in range(30)) + "]"


def nested_all(depth: int, over: str = THIRTY) -> str:
    """``over.all(x0, over.all(x1, ... true))`` nested ``depth`` times."""
    text = "true"
    for level in reversed(range(depth)):
        text = f"{over}.all(x{level}, {text})"
    return text


@pytest.mark.parametrize(
    ("source", "estimate"),
    [
        ("candidate.metrics.roc_auc >= 0.8", 5),
        ("l.all(x, x > 0)", 1 + 1 + 100 * (1 + 3)),
        ("a.all(x, b.exists(y, x == y))", 1 + 1 + 100 * (1 + 1 + 1 + 100 * (1 + 3))),
        ("[1, 2, 3].all(x, x > 0)", 1 + 4 + 3 * (1 + 3)),
        ("(l + l).exists(x, x)", 1 + 3 + 200 * 2),
        ("[[1, 2], [3]].all(p, p.all(x, x > 0))", 1 + 6 + 2 * (1 + 1 + 1 + 2 * (1 + 3))),
    ],
)
def test_estimate_multiplies_the_body_by_the_range_size(source, estimate):
    assert estimate_cost(source, LIMITS).estimate == estimate


def test_estimate_counts_lists_the_bundle_holds_at_the_declared_size():
    small = estimate_cost("l.all(x, x)", CostLimits(list_size=10)).estimate
    assert small == 1 + 1 + 10 * 2
    assert not estimate_cost("size(l) == 2", LIMITS).iterates


def test_a_map_result_iterated_again_counts_its_element_size():
    inner = estimate_cost("l.map(x, l).all(y, y.all(z, z))", LIMITS)
    assert inner.estimate > 100 * 100


@pytest.mark.parametrize("depth", [5, 6])
def test_nested_comprehensions_over_thirty_elements_are_refused_at_compile(depth):
    with pytest.raises(PolicyError) as err:
        Expression(nested_all(depth), SPOT)
    message = str(err.value)
    assert message.startswith("policies/q.yaml:7 rule 'deep' condition: estimated cost ")
    assert f"is over the budget of {DEFAULT_BUDGET:,}" in message
    assert "\n" not in message


def test_a_message_template_is_estimated_too():
    with pytest.raises(PolicyError, match=r"rule 'deep' message: estimated cost"):
        Template(
            "values {{ " + nested_all(5) + " }}",
            Spot(origin="policies/q.yaml", line=9, rule="deep", field="message"),
        )


def test_run_time_limit_uses_the_actual_list_sizes_and_never_runs_an_expensive_rule():
    expression = Expression("l.all(a, l.all(b, a + b >= 0))", SPOT)
    assert expression.evaluate(Activation({"l": list(range(30))})) is True
    with pytest.raises(PolicyError) as err:
        expression.evaluate(Activation({"l": list(range(2000))}))
    assert str(err.value).startswith(
        "policies/q.yaml:7 rule 'deep' condition: cost 24,006,002 on this bundle "
        f"is over the budget of {DEFAULT_BUDGET:,}; not evaluated"
    )


def test_run_time_limit_bounds_lists_computed_from_bundle_strings():
    expression = Expression("s.split(',').all(a, s.split(',').all(b, a == b || true))", SPOT)
    with pytest.raises(PolicyError, match="on this bundle is over the budget"):
        expression.evaluate(Activation({"s": ",".join(["x"] * 3000)}))


def test_budget_comes_from_the_environment_variable(monkeypatch):
    monkeypatch.setenv(BUDGET_VARIABLE, "50")
    assert read_cost_limits() == CostLimits(budget=50)
    with pytest.raises(PolicyError, match="over the budget of 50"):
        Expression("l.all(x, x)", SPOT)
    monkeypatch.setenv(BUDGET_VARIABLE, "lots")
    with pytest.raises(PolicyError, match=f"{BUDGET_VARIABLE}='lots': expected a positive integer"):
        read_cost_limits()
    monkeypatch.delenv(BUDGET_VARIABLE)
    assert read_cost_limits() == CostLimits()


def test_lint_refuses_a_pathological_rule(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "stall.yaml").write_text(
        "rules:\n  - id: stall\n    description: d\n"
        f"    condition: '{nested_all(6)}'\n    severity: warn\n    message: m\n"
    )
    findings = lint_policies(folder, now=datetime(2026, 1, 15, tzinfo=UTC))
    assert [f.level for f in findings] == ["error"]
    assert findings[0].message.startswith("policies/stall.yaml:4 rule 'stall' condition: estimated")
    with pytest.raises(PolicyError, match="rule 'stall' condition: estimated cost"):
        load_policy_set(folder)


def test_every_starter_rule_is_within_the_budget():
    for rule in load_policy_set(template_root() / "policies").rules:
        cost = rule.check.expression.cost  # type: ignore[attr-defined]  # the CEL kind
        assert cost.estimate <= DEFAULT_BUDGET, rule.id


@pytest.mark.parametrize(
    "source",
    [
        "a ? b : c ? d : e",
        "!has(m.x) || -m.x in [1, 2] && {'k': [1]}['k'][0] == 1",
        "m.all(k, v, v > 0)",
        "x.map(y, y > 1, y * 2).filter(z, z != 0u)",
        "r'raw\\d' + '''multi\nline''' == b'x'",
        ".name == 'a' && 0xFF == 255",
    ],
)
def test_parser_reads_the_cel_grammar(source):
    assert parse(source).kind in {"op", "method"}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("(" * 60 + "1" + ")" * 60, "nested more than 50 levels deep"),
        (" + ".join(["1"] * (MAX_HEIGHT + 5)), f"nested more than {MAX_HEIGHT} levels deep"),
        ("a.?b", "expected a field name after '.'"),
        ("a b", "unexpected 'b'"),
    ],
)
def test_parser_refuses_what_it_cannot_bound(source, reason):
    with pytest.raises(SyntaxProblem, match=reason):
        parse(source)


def test_an_expression_too_deep_for_the_engine_is_refused_before_it_compiles():
    # the engine's parser overflows its stack on this (the process dies with SIGSEGV)
    with pytest.raises(PolicyError) as err:
        Expression(" + ".join(["1"] * 100_000), SPOT)
    assert str(err.value) == (
        f"policies/q.yaml:7 rule 'deep' condition: nested more than {MAX_HEIGHT} levels deep; "
        "split the expression"
    )


def test_a_syntax_error_is_reported_by_the_engine_not_the_estimate():
    with pytest.raises(PolicyError, match=r"rule 'deep' condition: syntax error at column"):
        Expression("a b", SPOT)


def test_a_rule_over_the_budget_on_the_bundle_is_an_error_that_blocks(tmp_path):
    from mlops_gitops.policies.bundle import EvidenceBundle
    from mlops_gitops.policies.judge import evaluate_policies

    folder = tmp_path / "policies"
    folder.mkdir()
    condition = "changed_files.all(a, changed_files.all(b, a != b || true))"
    (folder / "pairs.yaml").write_text(
        "rules:\n  - id: pairs\n    description: d\n"
        f"    condition: '{condition}'\n    severity: warn\n    message: m\n"
    )
    policies = load_policy_set(folder)
    now = datetime(2026, 1, 15, tzinfo=UTC)
    few = evaluate_policies(policies, EvidenceBundle(now=now, changed_files=["a", "b"]))
    assert [r.outcome for r in few.results] == ["pass"]
    many = evaluate_policies(
        policies, EvidenceBundle(now=now, changed_files=[f"f{i}" for i in range(400)])
    )
    result = many.results[0]
    assert (many.verdict, result.outcome, result.severity) == ("block", "error", "block")
    assert result.message.startswith("policies/pairs.yaml:4 rule 'pairs' condition: cost ")
    assert "over the budget of 100,000; not evaluated" in result.message
    assert many.counts()["error"] == 1
