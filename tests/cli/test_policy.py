"""``mlops gate`` and ``mlops policy test|lint|schema``: exit codes and one-line errors."""

from __future__ import annotations

import json
import shutil

import pytest

from mlops_gitops.project import template_root
from tests.helpers import gen_tree, run

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    metrics:
      - metrics/evaluate.json:
          cache: false
      - metrics/export.json:
          cache: false
artifacts:
  credit-default:
    path: models/model.onnx
    type: model
"""
FILES = {
    "dvc.yaml": DVC_YAML,
    "params.yaml": "model:\n  name: credit-default\nexport:\n  tolerance: 0.0001\n",
    "metrics/evaluate.json": json.dumps({"roc_auc": 0.81, "accuracy": 0.76}),
    "metrics/export.json": json.dumps({"onnx_max_abs_diff": 1.0e-7}),
    "reports/validation.json": json.dumps({"passed": True}),
}
NOW = "2026-01-15T10:00:00Z"


@pytest.fixture
def project(git_repo):
    shutil.copytree(template_root() / "policies", git_repo / "policies")
    gen_tree(git_repo, {**FILES, ".gitignore": ".mlops/\n"}, commit="Pipeline")
    run(["git", "checkout", "-q", "-b", "train/next"], git_repo)
    return git_repo


def test_gate_passes_and_lists_every_rule(project, cli):
    result = cli("gate", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gate: PASS  credit-default  head ")
    assert "onnx-equivalence           pass     onnx.max_abs_diff=1e-07" in result.stdout
    assert lines[-1].startswith("record: ") and lines[-1].endswith(".json")


def test_gate_warning_still_exits_zero(project, cli):
    gen_tree(project, {"metrics/evaluate.json": json.dumps({"roc_auc": 0.7})}, commit="Worse")
    result = cli("gate", "--now", NOW, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["decision"]["verdict"] == "warn"


def test_gate_block_exits_three_with_the_blocking_rules(project, cli):
    gen_tree(project, {"reports/validation.json": json.dumps({"passed": False})}, commit="Bad data")
    result = cli("gate", "--now", NOW)
    assert result.exit_code == 3
    assert "validation-passed          block" in result.stdout
    assert result.stderr == "error: blocked by 1 rule: validation-passed\n"


def test_gate_bundle_replay_gives_the_identical_decision(project, cli):
    first = cli("gate", "--now", NOW, "--json", "--output", "../record.json")
    replay = cli("gate", "--bundle", "../record.json", "--json")
    assert replay.exit_code == first.exit_code == 0
    assert json.loads(replay.stdout)["decision"] == json.loads(first.stdout)["decision"]
    assert json.loads(replay.stdout)["matches_record"] is True
    text = cli("gate", "--bundle", "../record.json")
    assert "record:" not in text.stdout and "differs" not in text.stdout


def test_gate_replay_notes_a_policy_change(project, cli):
    cli("gate", "--now", NOW, "--output", "../record.json")
    policy = project / "policies" / "quality.yaml"
    policy.write_text(policy.read_text().replace("tolerance: 0.01", "tolerance: 0.02"))
    result = cli("gate", "--bundle", "../record.json")
    assert result.exit_code == 0
    assert "note: this decision differs from the recorded one" in result.stdout


def test_gate_counts_approvals_from_a_file(project, cli):
    gen_tree(
        project, {"policies/waivers.yaml": "waivers: []\n# reviewed\n"}, commit="Touch waivers"
    )
    head = run(["git", "rev-parse", "HEAD"], project).strip()
    (project.parent / "approvals.json").write_text(
        json.dumps({"approvals": [{"reviewer": "alice@example.com", "commit": head}]})
    )
    assert cli("gate", "--now", NOW).exit_code == 3
    result = cli("gate", "--now", NOW, "--approvals", "../approvals.json", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["decision"]["verdict"] == "pass"


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        (
            "policies/quality.yaml",
            "rules:\n  - id: [x\n",
            "error: policies/quality.yaml:3: not valid YAML",
        ),
        (
            "policies/extra.yaml",
            "rules:\n  - id: r\n    description: d\n    condition: 'true'\n    "
            "severity: warn\n    message: m\n    when: now\n",
            "error: policies/extra.yaml:7 rule 'r' when: unknown "
            "field; remove it or fix its spelling",
        ),
        (
            "policies/extra.yaml",
            "rules:\n  - id: r\n    description: d\n    condition: "
            "candidate.metrics.f1 > 'a'\n    severity: warn\n    message: m\n",
            "error: policies/extra.yaml:4 rule 'r' condition: type error",
        ),
        (
            "metrics/export.json",
            None,
            "error: dvc.yaml:7 metrics file metrics/export.json not found",
        ),
    ],
)
def test_gate_errors_exit_one_with_file_and_line(project, cli, path, text, message):
    target = project / path
    if text is None:
        target.unlink()
    else:
        target.write_text(text)
    result = cli("gate", "--now", NOW)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_gate_usage_errors(project, cli):
    assert cli("gate", "--bundle", "x.json", "--env", "prod").exit_code == 2
    result = cli("gate", "--now", "tomorrow")
    assert result.exit_code == 2 and "'tomorrow' is not an ISO 8601 time" in result.stderr


def test_gate_now_without_zone_is_utc(project, cli):
    result = cli("gate", "--now", "2026-01-15T10:00:00", "--json")
    assert result.exit_code == 0


def test_policy_test_runs_the_cases(project, cli):
    result = cli("policy", "test")
    assert result.exit_code == 0
    assert any(
        line.split()[:1] == ["min-metrics"] and "block     block   ok" in line
        for line in result.stdout.splitlines()
    )
    assert json.loads(cli("policy", "test", "--json").stdout)["passed"] is True


def test_policy_test_failure(project, cli):
    quality = project / "policies" / "quality.yaml"
    quality.write_text(
        quality.read_text().replace(
            "min_roc_auc: {staging: 0.70, prod: 0.75}", "min_roc_auc: {staging: 0.70, prod: 0.95}"
        )
    )
    result = cli("policy", "test", "--policies", "policies")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 1 of ")
    assert result.stderr.endswith(" policy test cases failed; first: policies/quality.yaml:23\n")


def test_policy_lint(project, cli):
    result = cli("policy", "lint")
    assert result.exit_code == 0 and result.stdout == "policies are clean\n"
    (project / "policies" / "extra.yaml").write_text(
        "rules:\n  - id: r\n    description: d\n    condition: "
        "fairness.gap < 0.1\n    severity: warn\n    message: m\n"
        "  - id: r\n    description: d\n    condition: 'true'\n    severity: warn\n    message: m\n"
    )
    result = cli("policy", "lint")
    assert result.exit_code == 1
    assert result.stdout.startswith("error: policies/extra.yaml:7 rule 'r': duplicate id")
    assert result.stderr == "error: policy lint found 1 error\n"
    findings = json.loads(cli("policy", "lint", "--json").stdout)["findings"]
    assert [f["level"] for f in findings] == ["error", "warning", "warning"]


def test_policy_schema_prints_the_bundle_schema(project, cli):
    result = cli("policy", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "EvidenceBundle" and "candidate" in schema["properties"]


def test_gate_reports_expired_waivers(project, cli):
    waiver = (
        "waivers:\n"
        "  - {id: W-1, rule: min-metrics, reason: x, approver: alice, expires: 2026-01-01}\n"
    )
    gen_tree(project, {"policies/waivers.yaml": waiver}, commit="Old waiver")
    result = cli("gate", "--now", NOW)
    assert "expired waivers (no longer applied): W-1" in result.stdout


def test_gate_uses_the_current_time_by_default(project, cli):
    assert cli("gate", "--json").exit_code == 0
