"""The forge, runner, report and ci commands: one success and one failure each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge

Cli = Callable[..., Any]


def test_forge_init_creates_a_forge(cli: Cli, tmp_path: Path) -> None:
    result = cli("forge", "init", str(tmp_path / "m.git"), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["created"] is True


def test_forge_init_refuses_a_work_tree(cli: Cli, git_repo: Path) -> None:
    result = cli("forge", "init", str(git_repo))
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"error: {git_repo}: exists and is not a bare repository; choose a new path"
    )


def test_forge_track_adds_the_notes_refspec_once(cli: Cli, git_repo: Path, remote: Path) -> None:
    assert cli("forge", "track").stdout.startswith("now fetching")
    assert cli("forge", "track").stdout.startswith("already fetching")


def test_forge_track_outside_a_repository_fails(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("forge", "track")
    assert result.exit_code == 1
    assert "not inside a git repository" in result.stderr


def test_forge_queue_lists_jobs(cli: Cli, tiny: TinyForge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny.clone)
    sh(
        "git checkout -q -b x && git commit -q --allow-empty -m x && git push -q origin x",
        tiny.clone,
    )
    result = cli("forge", "queue", "--json")
    assert result.exit_code == 0
    assert [(j["ref"], j["state"]) for j in json.loads(result.stdout)] == [
        ("refs/heads/x", "pending")
    ]


def test_forge_queue_needs_a_local_forge(cli: Cli, git_repo: Path) -> None:
    result = cli("forge", "queue")
    assert result.exit_code == 1
    assert "no remote 'origin'" in result.stderr


def test_forge_show_prints_the_noted_gate(cli: Cli, git_repo: Path) -> None:
    from mlops_gitops.forge import ChangeRef, GateStatus
    from mlops_gitops.forge.local import LocalForge

    sha = sh("git rev-parse HEAD", git_repo).stdout.strip()
    LocalForge(git_repo).set_gate(
        ChangeRef(sha, "main"), GateStatus(decision="pass", summary="all rules pass")
    )
    result = cli("forge", "show", "--gate")
    assert (result.exit_code, result.stdout) == (0, "pass: all rules pass\n")


def test_forge_show_without_a_report_fails(cli: Cli, git_repo: Path) -> None:
    result = cli("forge", "show")
    assert result.exit_code == 1
    assert "error: no report on" in result.stderr


def test_forge_approve_signs_and_pushes(
    cli: Cli, tiny: TinyForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny.clone)
    result = cli("forge", "approve", "prod", "--key", str(tiny.keys["alice"]), "--user", "alice")
    sha = sh("git rev-parse HEAD", tiny.clone).stdout.strip()
    assert result.exit_code == 0, result.stderr
    assert (
        sh(f"git tag -l approve/prod/{sha}/alice", tiny.forge).stdout.strip()
        == f"approve/prod/{sha}/alice"
    )


def test_forge_approve_with_a_missing_key_fails(cli: Cli, git_repo: Path, tmp_path: Path) -> None:
    result = cli("forge", "approve", "prod", "--key", str(tmp_path / "nokey"), "--remote", "")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot sign the approval tag approve/prod/")
    assert result.stderr.rstrip().endswith("nokey: no such key file")


def test_runner_with_an_empty_queue(cli: Cli, tmp_path: Path) -> None:
    cli("forge", "init", str(tmp_path / "m.git"))
    result = cli("runner", "--once", "--forge-path", str(tmp_path / "m.git"))
    assert (result.exit_code, result.stdout) == (0, "no pending jobs\n")


def test_runner_without_the_sandbox_still_drains_the_queue(cli: Cli, tmp_path: Path) -> None:
    cli("forge", "init", str(tmp_path / "m.git"))
    result = cli("runner", "--once", "--no-sandbox", "--forge-path", str(tmp_path / "m.git"))
    assert (result.exit_code, result.stdout) == (0, "no pending jobs\n")


def test_runner_refuses_a_work_dir_inside_the_forge(cli: Cli, tmp_path: Path) -> None:
    forge = tmp_path / "m.git"
    cli("forge", "init", str(forge))
    result = cli("runner", "--once", "--forge-path", str(forge), "--work-dir", str(forge / "w"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {forge / 'w'}: the runner's work tree must lie outside the forge {forge}; "
        "choose another --work-dir"
    )


def test_runner_on_a_folder_that_is_no_forge_fails(cli: Cli, tmp_path: Path) -> None:
    result = cli("runner", "--once", "--forge-path", str(tmp_path))
    assert result.exit_code == 1
    assert "not a git repository; run 'mlops forge init" in result.stderr


def test_report_renders_the_change(
    cli: Cli, tiny: TinyForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny.clone)
    result = cli("report", "--out", str(tiny.clone.parent / "out"))
    assert result.exit_code == 0, result.stderr
    text = (tiny.clone.parent / "out" / "report.md").read_text()
    assert text.startswith("❔ **mlops/gate: not evaluated**")
    assert (tiny.clone.parent / "out" / "roc.png").read_bytes().startswith(b"\x89PNG")


def test_report_refuses_a_broken_gate_record(
    cli: Cli, tiny: TinyForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny.clone)
    sha = sh("git rev-parse HEAD", tiny.clone).stdout.strip()
    record = tiny.clone / ".mlops" / "gate" / f"{sha}.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}")
    result = cli("report")
    assert result.exit_code == 1
    assert "not a gate record; rerun 'mlops gate' or delete it" in result.stderr


def test_ci_changed_envs_prints_environments(cli: Cli, git_repo: Path, gen: Any) -> None:
    gen({"envs/dev.yaml": "models: {}\n", "envs/environments.yaml": "x\n"}, commit="envs")
    result = cli("ci", "changed-envs", "--before", "HEAD~1")
    assert (result.exit_code, result.stdout) == (0, "dev\n")


def test_ci_changed_envs_with_an_unknown_commit_fails(cli: Cli, git_repo: Path) -> None:
    result = cli("ci", "changed-envs", "--before", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: git diff failed")


def test_ci_train_on_github_without_a_token_fails(
    cli: Cli, git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    result = cli("ci", "train", "--forge", "github")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "error: github: set GITHUB_REPOSITORY=owner/name and GITHUB_TOKEN"
    )


def test_ci_gate_with_an_unknown_forge_fails(cli: Cli, git_repo: Path) -> None:
    result = cli("ci", "gate", "--forge", "gitea")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unknown forge 'gitea'; known: github, local"


def test_ci_keep_records_then_restore_records_round_trips(
    cli: Cli, git_repo: Path, remote: Path
) -> None:
    (git_repo / "monitoring" / "prod").mkdir(parents=True)
    (git_repo / "monitoring" / "prod" / "state.json").write_text("{}\n")

    kept = cli("ci", "keep-records", "--forge", "local", "monitoring", "monitoring/prod")
    (git_repo / "monitoring" / "prod" / "state.json").unlink()
    restored = cli("ci", "restore-records", "monitoring", "monitoring/prod")

    assert kept.exit_code == 0, kept.stderr
    assert kept.stdout == "kept 1 file(s) of monitoring/prod on refs/notes/mlops-monitoring\n"
    assert restored.stdout == "restored 1 file(s) of monitoring/prod\n"
    assert (git_repo / "monitoring" / "prod" / "state.json").read_text() == "{}\n"


def test_ci_keep_records_refuses_an_empty_folder(cli: Cli, git_repo: Path, remote: Path) -> None:
    result = cli("ci", "keep-records", "--forge", "local", "monitoring", "monitoring/prod")

    assert result.exit_code == 1
    assert "monitoring/prod: no file to record; run the step that writes it first" in result.stderr


def test_ci_record_approvals_skips_a_commit_that_merged_no_pull_request(
    cli: Cli, git_repo: Path, remote: Path
) -> None:
    result = cli("ci", "record-approvals", "--forge", "local")

    assert result.exit_code == 0, result.stderr
    assert result.stdout == "HEAD: not the merge of a pull request; nothing recorded\n"
