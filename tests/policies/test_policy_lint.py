"""Policy lint: unique ids, fields in the bundle schema, tests, roles and waivers."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from mlops_gitops.policies import lint_policies
from mlops_gitops.project import template_root

NOW = datetime(2026, 1, 15, tzinfo=UTC)
RULE = """\
rules:
  - id: {id}
    description: d
    condition: {condition}
    severity: warn
    message: m
"""


def test_starter_policies_are_clean():
    assert lint_policies(template_root() / "policies", now=NOW) == []


def test_lint_reports_every_problem_with_its_place(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "a.yaml").write_text(RULE.format(id="r1", condition="candidate.metricz.f1 > 0.5"))
    (folder / "b.yaml").write_text(RULE.format(id="r1", condition="true"))
    (folder / "c.yaml").write_text("rules:\n  - id: [broken\n")
    (folder / "roles.yaml").write_text("teams: {leads: [alice]}\nwaivers: {approvers: leads}\n")
    (folder / "waivers.yaml").write_text(
        "waivers:\n  - {id: W-1, rule: gone, reason: x, approver: alice, expires: 2026-01-01}\n"
    )
    findings = [(f.level, f.message) for f in lint_policies(folder, now=NOW)]
    assert findings == [
        ("error", "policies/c.yaml:3: not valid YAML (did not find expected ',' or ']')"),
        ("error", "policies/b.yaml:2 rule 'r1': duplicate id; first defined at policies/a.yaml:2"),
        (
            "error",
            "policies/a.yaml:2 rule 'r1': reads candidate.metricz.f1, which is not a field of the "
            "evidence bundle (schema 1); see 'mlops policy schema'",
        ),
        ("warning", "policies/a.yaml:2 rule 'r1': has no test cases"),
        ("warning", "policies/b.yaml:2 rule 'r1': has no test cases"),
        ("error", "policies/waivers.yaml waiver 'W-1': rule 'gone' does not exist"),
        ("warning", "policies/waivers.yaml waiver 'W-1': expired on 2026-01-01; remove it"),
    ]


def test_lint_reports_invalid_roles_and_waivers(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(template_root() / "policies", folder)
    (folder / "waivers.yaml").write_text("waivers:\n  - {id: W-1}\n")
    messages = [f.message for f in lint_policies(folder, now=NOW)]
    assert messages == ["policies/waivers.yaml:2 waiver 'W-1' rule: required field is missing"]
    (folder / "roles.yaml").write_text("teams: []\n")
    messages = [f.message for f in lint_policies(folder, now=NOW)]
    assert messages == ["policies/roles.yaml:1 teams: input should be a valid dictionary"]
