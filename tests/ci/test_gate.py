"""The CI gate judges a change with the policies of its base, then puts the change's back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_gitops.ci.gate_status import ForgeApprovals, trusted_policies
from mlops_gitops.forge.base import Approval
from tests.helpers import sh


def test_the_base_policies_apply_while_the_gate_runs(git_repo: Path, gen: Any) -> None:
    gen({"policies/quality.yaml": "strict\n"}, commit="policies")
    sh("git checkout -q -b weaken", git_repo)
    gen({"policies/quality.yaml": "lenient\n", "policies/extra.yaml": "new\n"}, commit="weaken")

    with trusted_policies(git_repo, "main"):
        during = sorted(p.name for p in (git_repo / "policies").iterdir())
        text = (git_repo / "policies" / "quality.yaml").read_text()

    assert (during, text) == (["quality.yaml"], "strict\n")
    assert (git_repo / "policies" / "quality.yaml").read_text() == "lenient\n"
    assert (git_repo / "policies" / "extra.yaml").exists()
    assert sh("git status --porcelain", git_repo).stdout == ""


def test_forge_approvals_keep_those_of_the_target_environment(tmp_path: Path) -> None:
    approvals = [
        Approval("alice", "a" * 40, "ssh-signed-tag", env="prod"),
        Approval("bob", "a" * 40, "ssh-signed-tag", env="staging"),
        Approval("carol", "b" * 40, "github-review"),
    ]

    found = ForgeApprovals(approvals, env="prod", author="ada").read_approvals(tmp_path, "a" * 40)

    assert [(a.reviewer, a.source) for a in found.approvals] == [
        ("alice", "ssh-signed-tag"),
        ("carol", "github-review"),
    ]
    assert found.author == "ada"


def test_forge_approvals_for_several_environments(tmp_path: Path) -> None:
    pairs = [("a", "dev"), ("b", "prod")]
    approvals = [Approval(n, "a" * 40, "ssh-signed-tag", env=e) for n, e in pairs]

    found = ForgeApprovals(approvals, env={"prod", "staging"}).read_approvals(tmp_path, "a" * 40)

    assert [a.reviewer for a in found.approvals] == ["b"]
