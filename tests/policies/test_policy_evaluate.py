"""Evaluating rules on bundles: scope, absent evidence, waivers, decisions."""

from __future__ import annotations

import textwrap

import pytest

from mlops_gitops.policies import EvidenceBundle, evaluate_policies, load_policy_set
from mlops_gitops.policies.source import PolicyError

NOW = "2026-01-15T10:00:00Z"


def policy_set(tmp_path, text):
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(textwrap.dedent(text))
    return load_policy_set(folder)


def bundle(**fields):
    return EvidenceBundle.model_validate({"now": NOW, **fields})


def only(decision):
    (result,) = decision.results
    return result


@pytest.mark.parametrize(
    ("where", "fields", "note"),
    [
        ("kinds: [promotion]", {}, "not applicable: kind training not in [promotion]"),
        (
            "branches: ['train/*']",
            {"target": {"branch": "main"}},
            "not applicable: branch main not in [train/*]",
        ),
        ("branches: ['train/*']", {}, "not applicable: branch (none) not in [train/*]"),
        (
            "models: [churn]",
            {"candidate": {"model": "credit"}},
            "not applicable: model credit not in [churn]",
        ),
        (
            "paths: ['data/*']",
            {"changed_files": ["a", "b", "c", "d"]},
            "not applicable: changed files a, b, c, ... not in [data/*]",
        ),
    ],
)
def test_rules_out_of_scope_are_skipped_with_the_reason(tmp_path, where, fields, note):
    rules = policy_set(
        tmp_path,
        f"""\
        rules:
          - id: r
            description: d
            where: {{{where}}}
            condition: 'false'
            severity: block
            message: m
        """,
    )
    result = only(evaluate_policies(rules, bundle(**fields)))
    assert (result.outcome, result.note) == ("skip", note)


def test_rule_in_scope_is_evaluated(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            where: {branches: ['train/*'], paths: ['data/*'], models: [credit]}
            condition: 'false'
            severity: warn
            message: m
        """,
    )
    fields = {
        "target": {"branch": "train/x"},
        "changed_files": ["data/a.csv"],
        "candidate": {"model": "credit"},
    }
    decision = evaluate_policies(rules, bundle(**fields))
    assert only(decision).outcome == "warn" and decision.verdict == "warn" and not decision.blocked
    assert decision.counts() == {
        "pass": 0,
        "warn": 1,
        "waived": 0,
        "block": 0,
        "skip": 0,
        "error": 0,
    }


def test_no_severity_for_the_environment_skips(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            condition: 'false'
            severity: {prod: block}
            message: m
        """,
    )
    result = only(evaluate_policies(rules, bundle(target={"environment": "dev"})))
    assert (result.outcome, result.note) == ("skip", "no severity set for environment dev")


def test_absent_required_evidence_can_warn(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            requires: [drift.share_drifted]
            when_absent: warn
            condition: drift.share_drifted < 0.3
            severity: block
            message: "{{ drift.share_drifted }}"
        """,
    )
    result = only(evaluate_policies(rules, bundle()))
    assert (result.outcome, result.message) == (
        "warn",
        "required evidence absent: drift.share_drifted",
    )
    assert result.values == {"drift.share_drifted": "<absent>"}


def test_unguarded_absent_field_is_an_error_naming_the_rule(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            condition: candidate.metrics.f1 > 0.5
            severity: block
            message: m
        """,
    )
    with pytest.raises(PolicyError) as err:
        evaluate_policies(rules, bundle())
    assert str(err.value).startswith(
        "policies/p.yaml:4 rule 'r' condition: field 'f1' is absent from the bundle"
    )


def test_values_show_vars_and_lists(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            vars: {max: 1}
            condition: size(changed_files) <= vars.max && approvals.reviews.all(r, r.counted)
            severity: block
            message: "{{ size(changed_files) }} files"
        """,
    )
    result = only(evaluate_policies(rules, bundle(changed_files=["a", "b"])))
    assert result.outcome == "block" and result.message == "2 files"
    assert result.values == {"changed_files": ["a", "b"], "vars.max": 1, "approvals.reviews": []}


WAIVED = """\
rules:
  - id: r
    description: d
    condition: 'false'
    severity: block
    waivable: {waivable}
    message: m
"""
WAIVER = {
    "id": "W-1",
    "rule": "r",
    "scope": {"model": "credit", "version": "v1.0.0", "environment": "prod"},
    "reason": "accepted",
    "approver": "alice",
    "expires": "2026-01-15",
}
PROMOTION = {
    "target": {"kind": "promotion", "environment": "prod"},
    "change": {
        "manifest": "envs/prod.yaml",
        "model": "credit",
        "version": "v1.0.0",
        "to_environment": "prod",
    },
}


def test_waiver_applies_through_its_expiry_day(tmp_path):
    rules = policy_set(tmp_path, WAIVED.format(waivable="true"))
    result = only(evaluate_policies(rules, bundle(waivers=[WAIVER], **PROMOTION)))
    assert (result.outcome, result.waiver) == ("waived", "W-1")


@pytest.mark.parametrize("field", ["model", "version", "environment"])
def test_waiver_out_of_scope(tmp_path, field):
    rules = policy_set(tmp_path, WAIVED.format(waivable="true"))
    waiver = {**WAIVER, "scope": {**WAIVER["scope"], field: "other"}}
    assert only(evaluate_policies(rules, bundle(waivers=[waiver], **PROMOTION))).outcome == "block"


def test_unwaivable_rule_ignores_waivers(tmp_path):
    rules = policy_set(tmp_path, WAIVED.format(waivable="false"))
    decision = evaluate_policies(rules, bundle(waivers=[WAIVER], **PROMOTION))
    assert only(decision).outcome == "block" and decision.blocked


def test_decision_is_plain_json(tmp_path):
    rules = policy_set(tmp_path, WAIVED.format(waivable="true"))
    data = evaluate_policies(
        rules, bundle(waivers=[{**WAIVER, "expires": "2026-01-01"}], **PROMOTION)
    ).to_json()
    assert (
        data["expired_waivers"] == ["W-1"]
        and data["results"][0]["note"] == "waiver W-1 expired on 2026-01-01"
    )


def test_an_absent_section_reads_as_an_empty_map(tmp_path):
    rules = policy_set(
        tmp_path,
        """\
        rules:
          - id: r
            description: d
            condition: "!has(fairness.demographic_parity_difference) || has(deployed.version)"
            severity: block
            message: "gap {{ fairness.demographic_parity_difference }}"
        """,
    )
    result = only(evaluate_policies(rules, bundle()))
    assert (result.outcome, result.message) == ("pass", "gap <absent>")
