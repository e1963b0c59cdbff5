"""The CEL engine wrapper: compile and evaluation errors, field paths, messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlops_gitops.policies.engine import (
    ABSENT,
    ANY_INDEX,
    Activation,
    Expression,
    Spot,
    Template,
    cel_module,
    format_path,
    format_value,
    read_paths,
)
from mlops_gitops.policies.source import PolicyError

SPOT = Spot(origin="policies/q.yaml", line=7, rule="min-auc", field="condition")


def run(source, **data):
    return Expression(source, SPOT).evaluate(Activation(data))


def test_expression_evaluates_on_the_bundle_variables():
    assert run("m.auc >= 0.8 && size(l) == 2", m={"auc": 0.81}, l=[1, 2]) is True


def test_syntax_error_names_the_file_line_of_the_expression_line():
    block = Spot(origin="policies/q.yaml", line=7, rule="min-auc", field="condition", block=True)
    with pytest.raises(PolicyError) as err:
        Expression("m.auc >= 0.8 &&\nm.f1 >=", block)
    assert str(err.value).startswith(
        "policies/q.yaml:9 rule 'min-auc' condition: syntax error at column"
    )
    assert "expecting" not in str(err.value)


@pytest.mark.parametrize(
    ("source", "data", "reason"),
    [
        ("m.f1 > 0.5", {"m": {}}, "field 'f1' is absent from the bundle; guard it with has(...)"),
        ("m.auc + 1 > 0.5", {"m": {"auc": 0.8}}, "type error: no operator or function takes"),
        ("max(m.auc, 1.0) > 0.5", {"m": {"auc": 0.8}}, "unknown variable or function 'max'"),
        ("1 / 0 == 1", {}, "cannot evaluate: division by zero"),
    ],
)
def test_evaluation_errors_are_one_line_with_file_line_and_rule(source, data, reason):
    with pytest.raises(PolicyError) as err:
        run(source, **data)
    assert str(err.value).startswith("policies/q.yaml:7 rule 'min-auc' condition: " + reason)
    assert "\n" not in str(err.value)


def test_rule_vars_are_rebound_between_rules():
    activation = Activation({"m": {"auc": 0.8}})
    expression = Expression("m.auc >= vars.min", SPOT)
    activation.bind_vars({"min": 0.7})
    assert expression.evaluate(activation) is True
    activation.bind_vars({"min": 0.9})
    assert expression.evaluate(activation) is False


def test_engine_module_is_the_package_extension():
    import cel

    assert cel_module().compile is cel.compile


@pytest.mark.parametrize(
    ("source", "paths"),
    [
        ("candidate.metrics.f1 >= 0.5", [("candidate", "metrics", "f1")]),
        ("now.getDayOfWeek() == 1", [("now",)]),
        ("has(onnx.tolerance) ? onnx.tolerance : 1.0", [("onnx", "tolerance")]),
        (
            "approvals.required.all(t, approvals.count[t] >= 1)",
            [("approvals", "required"), ("approvals", "count")],
        ),
        ("vars.min[target.environment] < 1.0", [("vars", "min"), ("target", "environment")]),
        ('candidate.metrics["val/acc"] > 0.5', [("candidate", "metrics", "val/acc")]),
        ("approvals.reviews[0].counted", [("approvals", "reviews", ANY_INDEX, "counted")]),
        ("'''a.b''' == r'x.y' && true", []),
        ("type(x) == double && size(y) > 0u", [("x",), ("y",)]),
    ],
)
def test_read_paths(source, paths):
    assert read_paths(source) == paths


def test_format_path():
    assert format_path(("candidate", "metrics", "val/acc")) == 'candidate.metrics["val/acc"]'
    assert (
        format_path(("approvals", "reviews", ANY_INDEX, "counted"))
        == "approvals.reviews[*].counted"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (None, "null"),
        (0.123456789, "0.123457"),
        (3, "3"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00Z"),
        (timedelta(hours=30), "30h"),
        (["a", 0.5], "[a, 0.5]"),
        ({"b": 1, "a": False}, "{a: false, b: 1}"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_template_renders_holes_and_shows_absent_values():
    template = Template("auc {{ m.auc }} f1 {{ m.f1 }} ({{ 'x' }})", SPOT)
    assert template.render(Activation({"m": {"auc": 0.8}})) == f"auc 0.8 f1 {ABSENT} (x)"
    assert template.reads == (("m", "auc"), ("m", "f1"))


def test_template_type_error_is_an_error():
    template = Template("{{ m.auc + 1 }}", SPOT)
    with pytest.raises(PolicyError, match="type error"):
        template.render(Activation({"m": {"auc": 0.8}}))
