"""Issues on both forges: GitHub through the emulator, the local forge's notes ref."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import github3
import pytest

from mlops_gitops.forge import ForgeError
from mlops_gitops.forge.github import GitHubForge
from mlops_gitops.forge.issues import ISSUES_REF, list_issues, open_issue
from mlops_gitops.forge.local import LocalForge, init_forge, track_notes
from tests.helpers import sh_stdout as sh

from .emulator import GitHubEmulator

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def test_github_issue_is_opened_with_its_labels_and_its_url_returned(
    emulator: GitHubEmulator,
) -> None:
    gh = github3.GitHub(token="ghp_ada")
    gh.session.base_url = emulator.api_url
    gh.repository("acme", "models").create_pull("Raise lr", "main", "feature")
    forge = GitHubForge(
        "acme/models", token="ghs_actions", api_url=emulator.api_url, web_url=emulator.web_url
    )

    url = forge.open_issue("[P2] prod/credit: drift", "drift.share = 0.67", ["monitoring", "P2"])

    [issue] = emulator.state.issues.values()
    assert url == f"{emulator.web_url}/acme/models/issues/2"  # numbered after pull #1
    assert (issue.title, issue.body, issue.labels) == (
        "[P2] prod/credit: drift",
        "drift.share = 0.67",
        ["monitoring", "P2"],
    )
    assert issue.author.login == "github-actions[bot]"


def test_github_refusal_of_an_issue_is_a_one_line_forge_error(emulator: GitHubEmulator) -> None:
    forge = GitHubForge("acme/models", token="ghp_bob", api_url=emulator.api_url)
    with pytest.raises(ForgeError, match=r"^github: opening the issue ' ' failed: 422 "):
        forge.open_issue(" ", "body", [])


def test_local_issues_are_numbered_files_on_a_notes_ref_that_clones_fetch(
    hosted: tuple[Path, Path],
) -> None:
    bare, work = hosted
    forge = LocalForge(bare)
    first = forge.open_issue("[P2] prod/credit: drift", "drift.share = 0.67\n", ["monitoring"])
    second = open_issue(bare, "[P1] prod/credit: errors", "", ["monitoring", "P1"], now=NOW)

    assert first == f"{ISSUES_REF}:1.json" and second.location == f"{ISSUES_REF}:2.json"
    assert sh(f"git ls-tree --name-only {ISSUES_REF}", bare).split() == ["1.json", "2.json"]
    assert sh(f"git rev-list --count {ISSUES_REF}", bare).strip() == "2"
    track_notes(work)
    sh("git fetch -q origin", work)
    fetched = list_issues(work)
    assert [(i.number, i.title, i.labels) for i in fetched] == [
        (1, "[P2] prod/credit: drift", ("monitoring",)),
        (2, "[P1] prod/credit: errors", ("monitoring", "P1")),
    ]
    assert fetched[1].created_at == "2026-01-15T10:00:00+00:00" and fetched == forge.list_issues()


def test_concurrent_openers_each_get_their_own_number(tmp_path: Path) -> None:
    bare = init_forge(tmp_path / "forge.git").path
    threads = [
        threading.Thread(target=open_issue, args=(bare, f"alert {i}", "", ["monitoring"]))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    issues = list_issues(bare)
    assert [i.number for i in issues] == [1, 2, 3, 4]
    assert sorted(i.title for i in issues) == [f"alert {i}" for i in range(4)]


def test_an_issue_needs_a_title(tmp_path: Path) -> None:
    bare = init_forge(tmp_path / "forge.git").path
    with pytest.raises(ForgeError, match="an issue needs a title"):
        open_issue(bare, "  ", "body", [])
    assert list_issues(bare) == []


def test_cli_lists_the_issues_of_a_forge(cli, tmp_path: Path) -> None:
    bare = init_forge(tmp_path / "forge.git").path
    open_issue(bare, "[P2] prod/credit: drift", "text", ["monitoring", "P2"], now=NOW)

    table = cli("forge", "issues", "--forge-path", str(bare))
    listed = cli("forge", "issues", "--forge-path", str(bare), "--json")

    assert table.exit_code == 0 and "[P2] prod/credit: drift" in table.stdout
    assert "monitoring,P2" in table.stdout
    assert listed.exit_code == 0 and '"number": 1' in listed.stdout


def test_cli_issues_of_a_folder_that_is_no_repository_fail_in_one_line(cli, tmp_path: Path) -> None:
    result = cli("forge", "issues", "--forge-path", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path}: not a git repository; give the forge with --forge-path "
        "or run this in a clone of it"
    )
