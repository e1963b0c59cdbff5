"""Insider attacks on the GitHub path, against the emulator with the rendered protection applied.

The repository holds the scaffold's ``policies/`` and ``envs/`` and the
``.github/CODEOWNERS`` that ``mlops forge protection`` renders for them;
branch protection and the tag rulesets are put through
:func:`~mlops_gitops.forge.protection.apply_protection`, as ``--apply`` does.
Each attack asserts the refusal and its reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import github3
import pytest
from forge.emulator import GitHubEmulator, Identity

from mlops_gitops.access import render_protection, write_codeowners
from mlops_gitops.ci.gate_status import forge_approvals
from mlops_gitops.forge import ChangeRef
from mlops_gitops.forge.github import GitHubForge
from mlops_gitops.forge.protection import apply_protection
from mlops_gitops.policies.approvals import assess_approvals, load_roles
from mlops_gitops.policies.bundle import Approvals

SCAFFOLD = Path(__file__).resolve().parents[2] / "mlops_gitops" / "templates" / "project"
APP_ID = 77
GH_TOKENS = {
    "ghp_alice": Identity("alice", 14),
    "ghp_bob": Identity("bob", 12),
    "ghp_carol": Identity("carol", 13),
    "ghp_dan": Identity("dan", 15),
    "ghs_bot": Identity("mlops-bot[bot]", 900, "installation", app_id=APP_ID),
}
GH_TEAMS = {"ml-leads": ["alice", "bob"], "ml-engineers": ["alice", "bob", "carol", "dan"]}
TAG = "credit-default@v0.1.0"
CAROL = {
    "GIT_AUTHOR_NAME": "Carol",
    "GIT_AUTHOR_EMAIL": "carol@example.com",
    "GIT_COMMITTER_NAME": "Carol",
    "GIT_COMMITTER_EMAIL": "carol@example.com",
}


def _git(
    work: Path, *args: str, token: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in ``work``; ``token`` is who pushes, as the emulator's hook reads it."""
    env = {**os.environ, **(env or {}), **({"GH_EMULATOR_TOKEN": token} if token else {})}
    return subprocess.run(
        ["git", *args], cwd=work, env=env, capture_output=True, text=True, check=False
    )


@dataclass
class GitHubProject:
    """A clone of a GitHub-hosted project and the emulator that hosts it."""

    emu: GitHubEmulator
    work: Path

    def git(self, *args: str, token: str | None = None) -> str:
        proc = _git(self.work, *args, token=token)
        if proc.returncode != 0:
            pytest.fail(f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def refused(self, *args: str, token: str = "ghp_carol") -> str:
        """Run a push that must be refused; return what the pusher saw."""
        proc = _git(self.work, *args, token=token)
        assert proc.returncode != 0, f"git {' '.join(args)} was accepted:\n{proc.stderr}"
        assert "pre-receive hook declined" in proc.stderr
        return proc.stderr

    def api(self, token: str) -> github3.GitHub:
        gh = github3.GitHub(token=token)
        gh.session.base_url = self.emu.api_url
        return gh

    def url(self, path: str) -> str:
        return f"{self.emu.api_url}/repos/acme/models/{path}"

    def branch(
        self,
        name: str,
        files: dict[str, str],
        *,
        author: str | None = None,
        committer: dict[str, str] = CAROL,
    ) -> str:
        """Commit ``files`` on a new branch from main (``author`` claimed); carol pushes it."""
        self.git("checkout", "-qB", name, "origin/main")
        for rel, text in files.items():
            (self.work / rel).write_text(text)
        claimed = ("--author", author) if author else ()
        self.git("add", "-A")
        proc = _git(self.work, "commit", "-qm", f"change on {name}", *claimed, env=committer)
        assert proc.returncode == 0, proc.stderr
        self.git("push", "-q", "origin", name, token="ghp_carol")
        return self.git("rev-parse", "HEAD").strip()

    def pull(self, head: str, token: str = "ghp_carol") -> int:
        repo = self.api(token).repository("acme", "models")
        return int(repo.create_pull(f"change {head}", "main", head).number)

    def review(self, number: int, token: str, commit: str | None = None) -> None:
        body = {"event": "APPROVE", **({"commit_id": commit} if commit else {})}
        response = self.api(token).session.post(self.url(f"pulls/{number}/reviews"), json=body)
        assert response.status_code == 200, response.text

    def gate_status(self, sha: str, state: str = "success") -> None:
        body = {"state": state, "context": "mlops/gate", "description": "gate"}
        response = self.api("ghs_bot").session.post(self.url(f"statuses/{sha}"), json=body)
        assert response.status_code == 201, response.text

    def merge(self, number: int, token: str = "ghp_carol") -> tuple[int, str]:
        response = self.api(token).session.put(self.url(f"pulls/{number}/merge"), json={})
        return response.status_code, response.json().get("message", "")


@pytest.fixture
def gh_project(tmp_path: Path) -> Iterator[GitHubProject]:
    """The scaffold's policies hosted on the emulator, main protected, tags immutable."""
    bare, work = tmp_path / "hosted.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    for folder in ("policies", "envs"):
        shutil.copytree(SCAFFOLD / folder, work / folder)
    protection = render_protection(work, org="acme", app_id=APP_ID)
    write_codeowners(work, protection)
    for args in (
        ("remote", "add", "origin", str(bare)),
        ("add", "-A"),
        ("commit", "-qm", "project"),
        ("tag", "-a", TAG, "-m", "roc_auc: 0.81"),
        ("push", "-q", "origin", "main", f"refs/tags/{TAG}"),
        ("fetch", "-q", "origin"),
    ):
        assert _git(work, *args).returncode == 0, args
    with GitHubEmulator(bare, tokens=GH_TOKENS) as emu:
        emu.state.teams.update(GH_TEAMS)
        emu.state.emails.update({f"{n}@example.com": n for n in ("alice", "bob", "carol", "dan")})
        run = GitHubProject(emu, work)
        admin = GitHubForge("acme/models", token="ghp_alice", api_url=emu.api_url)
        applied = apply_protection(admin, protection)
        assert [a.status for a in applied] == [200, 201, 201]
        yield run
    assert emu.schema_errors == []


def _judged(project: GitHubProject, number: int, branch: str, head: str) -> Approvals:
    forge = GitHubForge("acme/models", token="ghs_bot", api_url=project.emu.api_url)
    provider = forge_approvals(forge, ChangeRef(head, branch, pull=number))
    sets = [provider.read_approvals(project.work, head)]
    roles = load_roles(project.work / "policies" / "roles.yaml", "policies/roles.yaml")
    return assess_approvals(roles, sets, head=head, authors=(), environment="prod")


def _carol_and_bob_review(project: GitHubProject, head: str) -> Approvals:
    """Alice opens the pull request of ``promote``; carol and bob approve; judge it."""
    number = project.pull("promote", token="ghp_alice")
    project.review(number, "ghp_carol")
    project.review(number, "ghp_bob")
    return _judged(project, number, "promote", head)


def test_review_by_the_committer_behind_a_claimed_author_is_not_counted(
    gh_project: GitHubProject,
) -> None:
    head = gh_project.branch(
        "promote", {"envs/prod.yaml": "# promote\n"}, author="Dan <dan@example.com>"
    )

    judged = _carol_and_bob_review(gh_project, head)

    assert {"alice", "carol", "dan"} <= set(judged.authors)
    assert judged.self_approvals == ["carol"]
    assert {r.person for r in judged.reviews if r.counted} == {"bob"}


def test_review_by_the_pusher_of_commits_made_out_to_someone_else_is_not_counted(
    gh_project: GitHubProject,
) -> None:
    dan = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "Dan"), ("EMAIL", "dan@example.com"))
    }
    head = gh_project.branch("promote", {"envs/prod.yaml": "# promote\n"}, committer=dan)

    judged = _carol_and_bob_review(gh_project, head)

    # the commits name only dan; GitHub authenticated carol as the pusher
    assert {"alice", "carol", "dan"} <= set(judged.authors)
    assert judged.self_approvals == ["carol"]
    assert {r.person for r in judged.reviews if r.counted} == {"bob"}


def test_the_opener_cannot_approve_her_own_pull_request(gh_project: GitHubProject) -> None:
    head = gh_project.branch(
        "promote", {"envs/prod.yaml": "# promote\n"}, author="Dan <dan@example.com>"
    )
    number = gh_project.pull("promote", token="ghp_carol")
    response = gh_project.api("ghp_carol").session.post(
        gh_project.url(f"pulls/{number}/reviews"), json={"event": "APPROVE"}
    )
    judged = _judged(gh_project, number, "promote", head)

    assert response.status_code == 422
    assert response.json()["message"] == "Can not approve your own pull request"
    assert "carol" in judged.authors


def test_a_review_of_an_older_head_is_stale(gh_project: GitHubProject) -> None:
    old = gh_project.branch("promote", {"envs/prod.yaml": "# promote\n"})
    number = gh_project.pull("promote")
    gh_project.review(number, "ghp_alice", commit=old)
    (gh_project.work / "envs" / "prod.yaml").write_text("# promote, then change\n")
    gh_project.git("commit", "-qam", "after the review")
    gh_project.git("push", "-q", "origin", "promote", token="ghp_carol")
    head = gh_project.git("rev-parse", "HEAD").strip()
    gh_project.gate_status(head)

    judged = _judged(gh_project, number, "promote", head)
    status, message = gh_project.merge(number)

    assert judged.stale == ["alice"]
    assert not any(r.counted for r in judged.reviews)
    assert status == 405
    assert "At least 1 approving review is required" in message


def test_deleting_or_repointing_a_registry_tag_is_refused(gh_project: GitHubProject) -> None:
    gh_project.git("commit", "-q", "--allow-empty", "-m", "another commit")
    gh_project.git("tag", "-f", "-a", TAG, "-m", "roc_auc: 0.999")

    deleted = gh_project.refused("push", "origin", f":refs/tags/{TAG}")
    moved = gh_project.refused("push", "-f", "origin", f"refs/tags/{TAG}")
    moved_by_bot = gh_project.refused("push", "-f", "origin", f"refs/tags/{TAG}", token="ghs_bot")
    api = gh_project.api("ghp_carol").session.delete(gh_project.url(f"git/refs/tags/{TAG}"))

    assert f"GH013: Repository rule violations found for refs/tags/{TAG}." in deleted
    assert "Cannot delete this protected ref." in deleted
    assert "Cannot update this protected ref." in moved
    assert "Cannot update this protected ref." in moved_by_bot
    assert api.status_code == 422
    assert "Cannot delete this protected ref." in api.json()["message"]


def test_only_the_bot_creates_registry_tags(gh_project: GitHubProject) -> None:
    gh_project.git("tag", "-a", "credit-default@v0.2.0", "-m", "roc_auc: 0.999")

    refused = gh_project.refused("push", "origin", "refs/tags/credit-default@v0.2.0")
    gh_project.git("push", "-q", "origin", "refs/tags/credit-default@v0.2.0", token="ghs_bot")

    assert "Cannot create ref due to creations being restricted." in refused
    assert gh_project.emu.state.ref_sha("refs/tags/credit-default@v0.2.0") is not None


def test_a_direct_push_to_main_without_the_gate_is_refused(gh_project: GitHubProject) -> None:
    gh_project.git("checkout", "-q", "main")
    (gh_project.work / "envs" / "prod.yaml").write_text("# straight to prod\n")
    gh_project.git("commit", "-qam", "straight to prod")

    seen = gh_project.refused("push", "origin", "main", token="ghp_alice")

    assert "GH006: Protected branch update failed for refs/heads/main." in seen
    assert 'Required status check "mlops/gate" is expected.' in seen
    assert "Changes must be made through a pull request." in seen


def test_a_policy_change_needs_the_code_owner_team_of_roles_yaml(
    gh_project: GitHubProject,
) -> None:
    codeowners = (gh_project.work / ".github" / "CODEOWNERS").read_text()
    head = gh_project.branch("loosen", {"policies/promotion.yaml": "rules: []\n"})
    number = gh_project.pull("loosen")
    gh_project.gate_status(head)
    gh_project.review(number, "ghp_dan")  # an ml-engineer, not of the team policies need

    refused = gh_project.merge(number)
    gh_project.review(number, "ghp_alice")
    merged = gh_project.merge(number)

    assert "/policies/**               @acme/ml-leads\n" in codeowners  # approvals.policies
    assert refused == (405, "Waiting on code owner review from acme/ml-leads.")
    assert merged == (200, "Pull Request successfully merged")
