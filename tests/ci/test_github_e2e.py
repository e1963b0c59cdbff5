"""End to end against the GitHub emulator: one report comment, the status, reviews as approvals."""

from __future__ import annotations

import json
from pathlib import Path

import github3
import pytest
from forge.emulator import GitHubEmulator

from mlops_gitops.ci.commands import CiOptions, ci_gate, ci_train
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge


def _env(
    emu: GitHubEmulator, tmp: Path, *, branch: str, pull: int, author: str = "ada"
) -> dict[str, str]:
    event = tmp / "event.json"
    payload = {
        "pull_request": {
            "number": pull,
            "head": {"ref": branch},
            "base": {"ref": "main"},
            "user": {"login": author},
        }
    }
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_API_URL": emu.api_url,
        "GITHUB_SERVER_URL": emu.web_url,
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_TOKEN": "ghs_actions",
        "GITHUB_RUN_ID": "42",
        "GITHUB_HEAD_REF": branch,
        "GITHUB_EVENT_PATH": str(event),
    }


def _pull(emu: GitHubEmulator, head: str, token: str = "ghp_ada") -> int:
    gh = github3.GitHub(token=token)
    gh.session.base_url = emu.api_url
    return int(gh.repository("acme", "models").create_pull(f"Change {head}", "main", head).number)


def _review(emu: GitHubEmulator, pull: int, token: str) -> None:
    gh = github3.GitHub(token=token)
    response = gh.session.post(
        f"{emu.api_url}/repos/acme/models/pulls/{pull}/reviews", json={"event": "APPROVE"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.slow
def test_two_pushes_leave_one_report_comment_and_set_the_status(
    hosted: tuple[TinyForge, GitHubEmulator], tmp_path: Path
) -> None:
    tiny, emu = hosted
    sh(
        "git checkout -q -b feature && sed -i 's/0.1/0.2/' params.yaml && git commit -qam lr",
        tiny.clone,
    )
    sh("git push -q origin feature", tiny.clone)
    pull = _pull(emu, "feature")
    env = _env(emu, tmp_path, branch="feature", pull=pull)

    first = ci_train(tiny.clone, CiOptions(forge="github", commit=True), env)
    sh("sed -i 's/0.2/0.3/' params.yaml && git commit -qam 'lr 0.3'", tiny.clone)
    sh("git push -q origin HEAD:feature", tiny.clone)
    second = ci_train(tiny.clone, CiOptions(forge="github", commit=True), env)

    comments = list(emu.state.comments.values())
    assert len(comments) == 1 and comments[0].author.login == "github-actions[bot]"
    assert comments[0].body.startswith("✅ **mlops/gate: pass**")
    assert "| roc_auc | 0.9 | 0.7 | +0.2 |" in comments[0].body
    assert second.committed == emu.state.resolve("feature") != first.committed
    gates = [(s.sha, s.state, s.context) for s in emu.state.statuses]
    assert gates[-1] == (second.committed, "success", "mlops/gate")
    assert [c.head_sha for c in emu.state.check_runs.values()] == [
        first.committed,
        second.committed,
    ]


@pytest.mark.slow
def test_gate_counts_reviews_on_the_head_commit_only(
    hosted: tuple[TinyForge, GitHubEmulator], tmp_path: Path
) -> None:
    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    tiny, emu = hosted
    register(tiny.clone, "credit-default", version="v1.0.0", check_remote=False)
    sh("git push -q origin --tags", tiny.clone)
    change = promote(tiny.clone, "credit-default", "v1.0.0", to="prod")
    sh(f"git checkout -q {change.branch} && git push -q origin {change.branch}", tiny.clone)
    pull = _pull(emu, change.branch)
    env = _env(emu, tmp_path, branch=change.branch, pull=pull)
    _review(emu, pull, "ghp_alice")
    (tiny.clone / "NOTES.md").write_text("why prod\n")
    sh(
        f"git add NOTES.md && git commit -qm notes && git push -q origin {change.branch}",
        tiny.clone,
    )
    _review(emu, pull, "ghp_bob")

    stale = ci_gate(tiny.clone, CiOptions(forge="github"), env)
    _review(emu, pull, "ghp_alice")
    fresh = ci_gate(tiny.clone, CiOptions(forge="github"), env)

    assert stale.status.decision == "block"
    assert "stale [alice]" in stale.status.details
    assert fresh.status.decision == "pass"
    assert [s.state for s in emu.state.statuses] == ["failure", "success"]


@pytest.mark.slow
def test_gate_does_not_count_the_committer_behind_a_claimed_author(
    hosted: tuple[TinyForge, GitHubEmulator], tmp_path: Path
) -> None:
    from forge.emulator import Identity

    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    tiny, emu = hosted
    emu.state.tokens["ghp_mallory"] = Identity("mallory", 16)
    emu.state.emails["mallory@example.com"] = "mallory"
    register(tiny.clone, "credit-default", version="v1.0.0", check_remote=False)
    sh("git push -q origin --tags", tiny.clone)
    change = promote(tiny.clone, "credit-default", "v1.0.0", to="prod")
    sh(f"git checkout -q {change.branch}", tiny.clone)
    (tiny.clone / "NOTES.md").write_text("why prod\n")
    sh(
        "git add NOTES.md && GIT_COMMITTER_EMAIL=mallory@example.com git commit -qm notes"
        f" --author 'Dan <dan@example.com>' && git push -q origin {change.branch}",
        tiny.clone,
    )
    pull = _pull(emu, change.branch)  # opened by ada
    env = _env(emu, tmp_path, branch=change.branch, pull=pull)
    _review(emu, pull, "ghp_alice")
    _review(emu, pull, "ghp_mallory")

    outcome = ci_gate(tiny.clone, CiOptions(forge="github"), env)

    assert outcome.status.decision == "block"
    assert "self-approvals ignored [mallory]" in outcome.status.details
