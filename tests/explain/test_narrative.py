"""Explanation templates: the credit domain wording, project templates, clear errors."""

from __future__ import annotations

import pytest

from mlops_gitops.errors import ConfigError
from mlops_gitops.explain.explained_model import ExplainError
from mlops_gitops.explain.narrative import display, join_and, list_templates, render_template


def context(positive: bool = True, counterfactual: dict | None = None) -> dict:
    towards = [
        {"feature": "debt_to_income", "value": 0.52, "contribution": 0.8},
        {"feature": "num_late_payments", "value": 3.0, "contribution": 0.4},
    ]
    against = [{"feature": "income", "value": 82040.0, "contribution": -0.2}]
    return {
        "method": "shap",
        "probability": 0.71 if positive else 0.2,
        "threshold": 0.5,
        "positive": positive,
        "base_value": -1.2,
        "output_space": "log-odds",
        "contributions": [*towards, *against],
        "towards": towards,
        "against": against,
        "counterfactual": counterfactual,
    }


def test_credit_template_says_why_an_application_was_declined():
    text = render_template("credit", context())
    assert "**Declined.** The estimated risk of default is 71%" in text
    assert (
        "declined mainly because of the debt-to-income ratio (0.52) and late payments on record (3)"
        in text
    )
    assert "In its favour: the income (82,040)." in text


def test_credit_template_words_an_approval_and_its_counterfactual():
    change = {"feature": "debt_to_income", "before": 0.52, "after": 0.31}
    text = render_template(
        "credit", context(False, {"changes": [change], "probability_after": 0.55})
    )
    assert text.startswith("**Approved.**")
    assert "The main factors in its favour were the income (82,040)." in text
    assert "- the debt-to-income ratio had been 0.31 instead of 0.52." in text


def test_generic_template_lists_contributions():
    text = render_template("generic", context())
    assert "| debt_to_income | 0.52 | +0.8000 |" in text


def test_project_template_folder_comes_first(tmp_path):
    (tmp_path / "credit.md.j2").write_text("ours: {{ probability }}\n")
    (tmp_path / "churn.md.j2").write_text("{{ 'stays' if not positive else 'leaves' }}\n")
    assert render_template("credit", context(), template_dir=tmp_path) == "ours: 0.71\n"
    assert render_template("churn", context(), template_dir=tmp_path) == "leaves\n"
    assert list_templates(tmp_path) == ["churn", "credit", "generic"]


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(
        ConfigError, match=r"^explain.template: no template 'loans' \(known: credit, generic\)$"
    ):
        render_template("loans", context())


def test_broken_template_names_its_file_and_line(tmp_path):
    (tmp_path / "bad.md.j2").write_text("line one\n{% if %}\n")
    with pytest.raises(ExplainError, match=r"bad.md.j2:2: "):
        render_template("bad", context(), template_dir=tmp_path)


def test_values_are_displayed_for_people():
    assert [display(v) for v in (None, float("nan"), 3.0, 82040.0, 0.123456, "rent")] == [
        "missing",
        "missing",
        "3",
        "82,040",
        "0.1235",
        "rent",
    ]
    assert join_and(["a", "b", "c"]) == "a, b and c" and join_and(["a"]) == "a"


def test_bold_markdown_becomes_html_and_the_rest_is_escaped():
    from mlops_gitops.explain.narrative import strong

    assert str(strong("**Declined.** a < b")) == "<strong>Declined.</strong> a &lt; b"
