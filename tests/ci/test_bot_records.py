"""Bot records (monitoring history, deploy renders) reach Git as notes, never as pushes to main.

Against the GitHub emulator with branch protection on (a direct push to main
is refused) and against the local forge (whose pre-receive hook refuses it).
"""

from __future__ import annotations

import json
from pathlib import Path

from forge.emulator import GitHubEmulator

from mlops_gitops.ci.commands import CiOptions, ci_keep_records, ci_restore_records
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge

from .test_github_e2e import _env
from .test_notes_e2e import protect_main

FOLDER = "monitoring/prod"


def _run_monitor(clone: Path, run: int) -> None:
    folder = clone / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "history.jsonl").open("a") as history:
        history.write(json.dumps({"run": run, "status": "alert"}) + "\n")
    (folder / "state.json").write_text(json.dumps({"last_run": run}) + "\n")


def test_monitoring_history_reaches_github_as_notes_with_main_protected(
    hosted: tuple[TinyForge, GitHubEmulator], tmp_path: Path
) -> None:
    tiny, emu = hosted
    protect_main(emu)
    env = _env(emu, tmp_path, branch="main", pull=1)
    main = sh("git rev-parse main", tiny.forge).stdout.strip()
    _run_monitor(tiny.clone, 1)
    sh(f"git add {FOLDER} && git commit -qm 'Record the prod monitoring run'", tiny.clone)
    refused = sh("git push origin HEAD:main", tiny.clone, check=False)
    sh("git reset -q --soft HEAD~1 && git reset -q", tiny.clone)

    ci_keep_records(
        tiny.clone, CiOptions(forge="github"), kind="monitoring", folder=FOLDER, env=env
    )
    other = tmp_path / "other-runner"
    sh(f"git clone -q {tiny.forge} {other}", tmp_path)
    restored = ci_restore_records(other, kind="monitoring", folder=FOLDER, env=env)
    _run_monitor(other, 2)
    ci_keep_records(other, CiOptions(forge="github"), kind="monitoring", folder=FOLDER, env=env)
    fresh = tmp_path / "fresh"
    sh(f"git clone -q {tiny.forge} {fresh}", tmp_path)
    latest = ci_restore_records(fresh, kind="monitoring", folder=FOLDER, env=env)

    assert refused.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/main." in refused.stderr
    assert sh("git rev-parse main", tiny.forge).stdout.strip() == main
    assert sorted(restored) == [f"{FOLDER}/history.jsonl", f"{FOLDER}/state.json"]
    assert sorted(latest) == sorted(restored)
    runs = [json.loads(line)["run"] for line in (fresh / FOLDER / "history.jsonl").open()]
    assert runs == [1, 2]
    note = json.loads(sh(f"git notes --ref=mlops-monitoring show {main}", fresh).stdout)
    assert note["files"] == [f"{FOLDER}/history.jsonl", f"{FOLDER}/state.json"]
    assert len(sh("git log --format=%H refs/notes/mlops-monitoring", fresh).stdout.split()) == 2


def test_deploy_renders_reach_the_local_forge_as_notes(tiny: TinyForge, tmp_path: Path) -> None:
    render = tiny.clone / "deploy" / "prod" / "deployment.yaml"
    render.parent.mkdir(parents=True)
    render.write_text("kind: Deployment\n")
    local = {"MLOPS_FORGE_PATH": str(tiny.forge)}

    ci_keep_records(tiny.clone, CiOptions(forge="local"), kind="deploy", folder="deploy", env=local)
    fresh = tmp_path / "fresh"
    sh(f"git clone -q {tiny.forge} {fresh}", tmp_path)
    written = ci_restore_records(fresh, kind="deploy", folder="deploy", env=local)

    assert written == ["deploy/prod/deployment.yaml"]
    assert (fresh / "deploy/prod/deployment.yaml").read_text() == "kind: Deployment\n"


def test_the_monitoring_record_keeps_every_environment_of_the_workflow_loop(
    tiny: TinyForge, tmp_path: Path
) -> None:
    local = {"MLOPS_FORGE_PATH": str(tiny.forge)}
    for env_name in ("prod", "staging"):
        folder = tiny.clone / "monitoring" / env_name
        folder.mkdir(parents=True)
        (folder / "history.jsonl").write_text(json.dumps({"env": env_name}) + "\n")

    ci_keep_records(
        tiny.clone, CiOptions(forge="local"), kind="monitoring", folder="monitoring", env=local
    )
    fresh = tmp_path / "fresh"
    sh(f"git clone -q {tiny.forge} {fresh}", tmp_path)
    written = ci_restore_records(fresh, kind="monitoring", folder="monitoring", env=local)

    assert sorted(written) == [
        "monitoring/prod/history.jsonl",
        "monitoring/staging/history.jsonl",
    ]
    assert json.loads((fresh / "monitoring/staging/history.jsonl").read_text()) == {
        "env": "staging"
    }
