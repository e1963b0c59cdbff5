"""The GitHub emulator itself: shapes from the recordings, state, auth, pagination."""

from __future__ import annotations

import github3
import pytest

from .emulator import GitHubEmulator


def _client(emu: GitHubEmulator, token: str) -> github3.GitHub:
    gh = github3.GitHub(token=token)
    gh.session.base_url = emu.api_url
    return gh


def test_github3_round_trip_through_pull_comment_status_review(emulator: GitHubEmulator) -> None:
    ada, bob = _client(emulator, "ghp_ada"), _client(emulator, "ghp_bob")
    repo = ada.repository("acme", "models")
    pr = repo.create_pull("Raise lr", "main", "feature", "body")
    comment = pr.create_comment("first")
    comment.edit("second")
    repo.create_status(pr.head.sha, "pending", None, "training", "mlops/gate")
    reviews = f"{emulator.api_url}/repos/acme/models/pulls/1/reviews"
    bob.session.post(reviews, json={"event": "APPROVE"})

    assert [c.body for c in pr.issue_comments()] == ["second"]
    assert [(r.user.login, r.state, r.commit_id) for r in pr.reviews()] == [
        ("bob", "APPROVED", pr.head.sha)
    ]
    status_url = f"{emulator.api_url}/repos/acme/models/commits/feature/status"
    combined = ada.session.get(status_url).json()
    assert combined["state"] == "pending"


def test_comment_pages_follow_the_link_header(emulator: GitHubEmulator) -> None:
    repo = _client(emulator, "ghp_ada").repository("acme", "models")
    pr = repo.create_pull("t", "main", "feature")
    for i in range(35):
        pr.create_comment(f"c{i}")

    assert len(list(pr.issue_comments())) == 35


def test_bad_token_and_invalid_status_are_refused(emulator: GitHubEmulator) -> None:
    bad = _client(emulator, "ghp_nobody")
    with pytest.raises(github3.exceptions.AuthenticationFailed):
        bad.me()
    repo = _client(emulator, "ghp_ada").repository("acme", "models")
    sha = repo.ref("heads/feature").object.sha
    with pytest.raises(github3.exceptions.UnprocessableEntity):
        repo.create_status(sha, "done")


def test_check_runs_need_an_installation_token(emulator: GitHubEmulator) -> None:
    user_repo = _client(emulator, "ghp_ada").repository("acme", "models")
    sha = user_repo.ref("heads/feature").object.sha
    resp = user_repo.session.post(
        f"{emulator.api_url}/repos/acme/models/check-runs", json={"name": "x", "head_sha": sha}
    )
    assert resp.status_code == 403

    bot = github3.GitHub()
    bot.session.base_url = emulator.api_url
    expires = "2099-01-01T00:00:00Z"
    bot.session.app_installation_token_auth({"token": "ghs_actions", "expires_at": expires})
    run = bot.repository("acme", "models").create_check_run(
        "mlops/gate", sha, status="completed", conclusion="success", completed_at=expires
    )
    assert run.conclusion == "success"


def test_git_data_api_writes_into_the_real_repository(emulator: GitHubEmulator) -> None:
    repo = _client(emulator, "ghp_ada").repository("acme", "models")
    blob = repo.create_blob("aGVsbG8=", "base64")
    tree = repo.create_tree([{"path": "a/b.txt", "mode": "100644", "type": "blob", "sha": blob}])
    commit = repo.create_commit("plots", tree.sha, [])
    repo.create_ref("refs/heads/mlops-reports", commit.sha)

    assert emulator.state.resolve("mlops-reports") == commit.sha
    assert emulator.state.hash_blob(b"hello") == blob


def test_enterprise_prefix_is_served(hosted: tuple) -> None:  # type: ignore[type-arg]
    from .emulator import TOKENS

    with GitHubEmulator(hosted[0], tokens=TOKENS, prefix="/api/v3") as emu:
        gh = _client(emu, "ghp_ada")
        assert emu.api_url.endswith("/api/v3")
        assert gh.repository("acme", "models").full_name == "acme/models"
    assert emu.schema_errors == []
