"""``mlops forge protection``: one success path and one failure path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlops_gitops.forge.protection import IMMUTABLE_RULESET

SCAFFOLD = Path(__file__).resolve().parents[2] / "mlops_gitops" / "templates" / "project"


def test_protection_prints_codeowners_and_the_payloads(git_repo: Path, cli) -> None:
    for folder in ("policies", "envs"):
        shutil.copytree(SCAFFOLD / folder, git_repo / folder)

    result = cli("forge", "protection", "--org", "acme", "--app-id", "77", "--write", "--json")

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["written"] is True
    assert (git_repo / ".github" / "CODEOWNERS").read_text() == out["codeowners"]
    assert out["branch_protection"]["required_status_checks"]["contexts"] == ["mlops/gate"]
    assert out["rulesets"][0]["name"] == IMMUTABLE_RULESET
    assert out["rulesets"][1]["bypass_actors"][0]["actor_id"] == 77


def test_protection_refuses_roles_without_a_policy_team(git_repo: Path, cli) -> None:
    shutil.copytree(SCAFFOLD / "envs", git_repo / "envs")
    (git_repo / "policies").mkdir()
    (git_repo / "policies" / "roles.yaml").write_text("teams:\n  a: [x]\n")

    result = cli("forge", "protection", "--org", "acme")

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: policies/roles.yaml approvals: no team is declared for policy changes"
    )
    assert not (git_repo / ".github").exists()


def test_protection_check_fails_when_codeowners_lags_behind_roles(git_repo: Path, cli) -> None:
    for folder in ("policies", "envs"):
        shutil.copytree(SCAFFOLD / folder, git_repo / folder)
    assert cli("forge", "protection", "--org", "acme", "--write").exit_code == 0
    assert cli("forge", "protection", "--org", "acme", "--check").exit_code == 0
    roles = git_repo / "policies" / "roles.yaml"
    roles.write_text(roles.read_text().replace("prod: {ml-leads: 2}", "prod: {ml-engineers: 2}"))

    result = cli("forge", "protection", "--org", "acme", "--check")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: .github/CODEOWNERS is not what policies/roles.yaml renders; "
        "run 'mlops forge protection --org acme --write' and commit it\n"
    )
