"""The policy test runner: every case runs, failures say why and where."""

from __future__ import annotations

from mlops_gitops.policies import run_policy_tests
from mlops_gitops.policies.testing import merge

RULES = """\
rules:
  - id: min-auc
    description: d
    condition: candidate.metrics.roc_auc >= 0.8
    severity: block
    message: "auc {{ candidate.metrics.roc_auc }}"
    tests:
      - name: good
        bundle: {candidate: {metrics: {roc_auc: 0.9}}}
        expect: pass
        message: auc 0.9
      - name: wrong expectation
        bundle: {candidate: {metrics: {roc_auc: 0.7}}}
        expect: pass
      - name: wrong message
        bundle: {candidate: {metrics: {roc_auc: 0.7}}}
        expect: block
        message: auc 0.8
      - name: bad fragment
        bundle: {candidate: {metricz: {}}}
        expect: pass
      - name: absent field
        bundle: {}
        expect: pass
"""


def test_failures_are_reported_per_case(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "auc.yaml").write_text(RULES)
    report = run_policy_tests(folder)
    assert not report.passed
    results = {r.name: r for r in report.results}
    assert results["good"].passed and results["good"].actual == "pass"
    assert results["wrong expectation"].detail == "expected pass, got block: auc 0.7"
    assert results["wrong message"].detail == "message 'auc 0.7' does not contain 'auc 0.8'"
    assert results["bad fragment"].actual is None
    assert results["bad fragment"].detail.startswith(
        "policies/auc.yaml:19 test 'bad fragment' candidate.metricz: extra inputs are not permitted"
    )
    assert "field 'roc_auc' is absent" in results["absent field"].detail
    assert [f.source for f in report.failures] == [
        "policies/auc.yaml:12",
        "policies/auc.yaml:15",
        "policies/auc.yaml:19",
        "policies/auc.yaml:22",
    ]


def test_fragments_merge_into_the_base_key_by_key():
    assert merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "e": 4}) == {
        "a": {"b": 3, "c": 2},
        "d": 1,
        "e": 4,
    }
