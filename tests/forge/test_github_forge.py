"""The github forge against the emulator: one report comment, the gate status, reviews."""

from __future__ import annotations

from pathlib import Path

import github3
import pytest

from mlops_gitops.forge import ChangeRef, ForgeError, GateStatus, Report
from mlops_gitops.forge.github import COMMENT_LIMIT, GitHubForge
from tests.helpers import sh_stdout as sh

from .emulator import GitHubEmulator


def _forge(emu: GitHubEmulator, token: str = "ghs_actions") -> GitHubForge:
    return GitHubForge("acme/models", token=token, api_url=emu.api_url, web_url=emu.web_url)


def _open_pull(emu: GitHubEmulator, token: str = "ghp_ada") -> int:
    gh = github3.GitHub(token=token)
    gh.session.base_url = emu.api_url
    return int(gh.repository("acme", "models").create_pull("Raise lr", "main", "feature").number)


def _review(
    emu: GitHubEmulator, token: str, event: str = "APPROVE", commit: str | None = None
) -> None:
    gh = github3.GitHub(token=token)
    body = {"event": event, **({"commit_id": commit} if commit else {})}
    response = gh.session.post(f"{emu.api_url}/repos/acme/models/pulls/1/reviews", json=body)
    assert response.status_code == 200, response.text


def _target(emu: GitHubEmulator) -> ChangeRef:
    return ChangeRef(sha=str(emu.state.resolve("feature")), branch="feature")


def test_two_pushes_leave_one_report_comment_updated_in_place(
    emulator: GitHubEmulator, hosted: tuple[Path, Path]
) -> None:
    _open_pull(emulator)
    forge = _forge(emulator)
    first = forge.publish_report(
        _target(emulator), Report("## Report\nfirst", {"roc.png": b"\x89PNG1"})
    )
    (hosted[1] / "params.yaml").write_text("train:\n  lr: 0.3\n")
    sh("git commit -qam 'lr 0.3' && git push -q origin feature", hosted[1])
    second = forge.publish_report(
        _target(emulator), Report("## Report\nsecond ![roc](attachment://roc.png)")
    )

    comments = list(emulator.state.comments.values())
    assert (first.created, second.created) == (True, False)
    assert len(comments) == 1
    assert comments[0].body.startswith("## Report\nsecond")
    assert "<!-- mlops-report:train -->" in comments[0].body
    assert forge.read_report(_target(emulator)) == comments[0].body


def test_report_does_not_edit_comments_of_other_users(emulator: GitHubEmulator) -> None:
    _open_pull(emulator)
    ada = _forge(emulator, "ghp_ada")
    bot = _forge(emulator)
    ada.publish_report(_target(emulator), Report("ada's copy"))
    bot.publish_report(_target(emulator), Report("bot's report"))

    bodies = sorted(c.body.split("\n")[0] for c in emulator.state.comments.values())
    assert bodies == ["ada's copy", "bot's report"]


def test_plots_and_full_report_go_to_the_reports_branch(
    emulator: GitHubEmulator, hosted: tuple[Path, Path]
) -> None:
    _open_pull(emulator)
    target = _target(emulator)
    _forge(emulator).publish_report(
        target, Report("![roc](attachment://roc.png)", {"roc.png": b"PNG"})
    )

    listing = sh("git ls-tree -r --name-only mlops-reports", hosted[0]).split()
    assert listing == [f"reports/{target.sha}/report.md", f"reports/{target.sha}/roc.png"]
    body = next(iter(emulator.state.comments.values())).body
    assert f"/blob/mlops-reports/reports/{target.sha}/roc.png?raw=true" in body


def test_report_over_the_comment_limit_links_the_full_report(emulator: GitHubEmulator) -> None:
    _open_pull(emulator)
    long = "## Verdict\npass\n" + "".join(
        f"## Section {i}\n" + "x" * 5000 + "\n" for i in range(20)
    )
    _forge(emulator).publish_report(_target(emulator), Report(long))

    body = next(iter(emulator.state.comments.values())).body
    assert len(body) <= COMMENT_LIMIT
    assert "read the full report" in body and body.rstrip().endswith("<!-- mlops-report:train -->")


def test_gate_sets_status_and_check_run_with_an_installation_token(
    emulator: GitHubEmulator,
) -> None:
    target = _target(emulator)
    _forge(emulator).set_gate(
        target,
        GateStatus(
            decision="block",
            summary="2 of 7 rules failed",
            details="details",
            target_url="http://ci/run/1",
        ),
    )

    [status] = emulator.state.statuses
    [check] = emulator.state.check_runs.values()
    assert (status.context, status.state, status.target_url) == (
        "mlops/gate",
        "failure",
        "http://ci/run/1",
    )
    assert (check.name, check.conclusion, check.output["text"]) == (
        "mlops/gate",
        "failure",
        "details",
    )
    assert _forge(emulator).read_gate(target).decision == "block"  # type: ignore[union-attr]


def test_gate_with_a_personal_token_sets_the_status_only(emulator: GitHubEmulator) -> None:
    _forge(emulator, "ghp_ada").set_gate(
        _target(emulator), GateStatus(decision="pass", summary="all rules pass")
    )

    assert [s.state for s in emulator.state.statuses] == ["success"]
    assert emulator.state.check_runs == {}


def test_approvals_are_latest_reviews_with_their_commit(
    emulator: GitHubEmulator, hosted: tuple[Path, Path]
) -> None:
    _open_pull(emulator)
    old = _target(emulator).sha
    _review(emulator, "ghp_bob")
    _review(emulator, "ghp_carol", "REQUEST_CHANGES")
    (hosted[1] / "params.yaml").write_text("train:\n  lr: 0.4\n")
    sh("git commit -qam 'lr 0.4' && git push -q origin feature", hosted[1])
    _review(emulator, "ghp_carol")
    _review(emulator, "ghp_bob", "COMMENT")

    approvals = _forge(emulator).list_approvals(_target(emulator))

    assert {(a.reviewer, a.commit == old) for a in approvals} == {("bob", True), ("carol", False)}


def test_unknown_repository_is_a_one_line_error(emulator: GitHubEmulator) -> None:
    forge = GitHubForge("acme/other", token="ghp_ada", api_url=emulator.api_url)
    with pytest.raises(ForgeError, match=r"^github: reading acme/other failed: 404 Not Found$"):
        forge.repository()


def test_enterprise_server_api_url_is_used_as_given(hosted: tuple[Path, Path]) -> None:
    from .emulator import TOKENS

    with GitHubEmulator(hosted[0], tokens=TOKENS, prefix="/api/v3") as emu:
        forge = GitHubForge.from_env(
            {
                "GITHUB_REPOSITORY": "acme/models",
                "GITHUB_TOKEN": "ghs_actions",
                "GITHUB_API_URL": emu.api_url,
                "GITHUB_SERVER_URL": emu.root_url,
                "GITHUB_RUN_ID": "9",
            }
        )
        sha = str(emu.state.resolve("feature"))
        forge.set_gate(ChangeRef(sha, "feature"), GateStatus(decision="warn", summary="1 warning"))
        run_url = f"{emu.root_url}/acme/models/actions/runs/9"

    assert [(s.state, s.target_url) for s in emu.state.statuses] == [("success", run_url)]
    assert emu.schema_errors == []


def test_authors_are_the_github_logins_of_opener_pushers_and_commits_never_free_text(
    emulator: GitHubEmulator, hosted: tuple[Path, Path]
) -> None:
    emulator.state.emails.update({"carol@example.com": "carol", "alice@example.com": "alice"})
    work = hosted[1]
    (work / "params.yaml").write_text("train:\n  lr: 0.5\n")
    sh(
        "GIT_COMMITTER_EMAIL=carol@example.com git commit -qam 'as alice'"
        " --author 'Alice <alice@example.com>' && "
        "GIT_COMMITTER_EMAIL=carol@example.com git commit -q --allow-empty -m 'nobody'"
        " --author 'Nobody <nobody@example.org>' && "
        "GH_EMULATOR_TOKEN=ghp_bob git push -q origin feature",
        work,
    )
    _open_pull(emulator, "ghp_ada")

    authors = _forge(emulator).list_authors(_target(emulator))

    # ada opened it, bob pushed, carol committed; alice's e-mail is alice's account,
    # nobody@ is no account
    assert authors == ["ada", "bob", "alice", "carol"]
