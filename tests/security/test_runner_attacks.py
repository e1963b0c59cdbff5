"""Red team: pushed code that the local forge's runner trains cannot act with the forge's rights.

Each attack is a branch pushed to a real forge (bare repository with hooks),
trained by the real runner (``dvc pull/repro/push`` in its sandbox), with a
stage that tries to move ``main``, plant hooks or config in the work tree,
write outside its declared outputs, or outlive a killed runner.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlops_gitops.ci import RunnerSettings, prepare_work_tree, run_runner
from mlops_gitops.forge import ForgeError
from mlops_gitops.forge.processes import ProcessGroup, list_members
from mlops_gitops.forge.queue import JobQueue
from tests.helpers import sh
from tests.helpers.tiny_forge import TRAIN, TinyForge

MOVE_MAIN = """
import os, subprocess
FORGE = {forge!r}
sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
url = subprocess.run(["git", "remote", "get-url", "origin"], capture_output=True, text=True)
targets = {{"relative": os.path.join(os.getcwd(), "..", ".."), "absolute": FORGE,
           "remote": url.stdout.strip() or "/no-remote",
           "env": os.environ.get("MLOPS_FORGE_PATH", "/no-env")}}
for pid in filter(str.isdigit, os.listdir("/proc")):
    targets[f"proc-{{pid}}"] = f"/proc/{{pid}}/root{{FORGE}}"
    try:
        targets[f"cwd-{{pid}}"] = os.readlink(f"/proc/{{pid}}/cwd")
    except OSError:
        pass
for name, path in targets.items():
    moved = subprocess.run(["git", f"--git-dir={{path}}", "update-ref", "refs/heads/main", sha],
                           capture_output=True, text=True)
    print(f"attack {{name}}: exit {{moved.returncode}} {{moved.stderr.strip()[-120:]}}")
    try:
        with open(os.path.join(path, "refs", "heads", "main"), "w") as ref:
            ref.write(sha + "\\n")
        print(f"attack {{name}}: wrote the ref file")
    except OSError as exc:
        print(f"attack {{name}}: ref file refused: {{exc.strerror}}")
"""

PLANT_HOOKS = """
import os, subprocess
MARK = {mark!r}
hooks = os.path.abspath(".dvc/tmp/evil-hooks")
os.makedirs(hooks, exist_ok=True)
script = f"#!/bin/sh\\necho pwned >> {{MARK}}\\n"
for name in ("post-commit", "reference-transaction", "post-checkout", "post-index-change"):
    for folder in (".git/hooks", hooks):
        try:
            with open(os.path.join(folder, name), "w") as hook:
                hook.write(script)
            os.chmod(os.path.join(folder, name), 0o755)
            print(f"planted {{folder}}/{{name}}")
        except OSError as exc:
            print(f"refused {{folder}}/{{name}}: {{exc.strerror}}")
monitor = os.path.join(hooks, "post-commit")
for key, value in (("core.hooksPath", hooks), ("core.fsmonitor", monitor)):
    done = subprocess.run(["git", "config", key, value], capture_output=True, text=True)
    print(f"git config {{key}}: exit {{done.returncode}} {{done.stderr.strip()}}")
try:
    with open(".git/config", "a") as config:
        config.write(f"[core]\\n\\thooksPath = {{hooks}}\\n")
    print("appended to .git/config")
except OSError as exc:
    print(f"refused .git/config: {{exc.strerror}}")
"""

EDIT_OUTSIDE_OUTPUTS = """
import pathlib
pathlib.Path("envs/prod.yaml").write_text("models:\\n  credit-default: {version: v9.9.9}\\n")
pathlib.Path("policies/waivers.yaml").write_text("waivers: []\\n")
"""

OUTLIVE_THE_RUNNER = """
import os, pathlib, time
flag = pathlib.Path(".dvc/tmp/attempted")
if not flag.exists():
    flag.write_text(str(os.getpid()))
    time.sleep(120)  # the first attempt is still "training" when its runner is killed
"""


def _push_stage(tiny: TinyForge, branch: str, code: str) -> str:
    """Push ``branch`` whose training script also runs ``code``; return its commit."""
    sh(f"git checkout -q -b {branch}", tiny.clone)
    (tiny.clone / "train.py").write_text(TRAIN + textwrap.dedent(code))
    (tiny.clone / "params.yaml").write_text("train:\n  lr: 0.2\n")
    sh(f"git commit -qam 'Train differently ({branch})' && git push -q origin {branch}", tiny.clone)
    return sh(f"git rev-parse {branch}", tiny.clone).stdout.strip()


def _refs(forge: Path) -> str:
    return sh("git for-each-ref --format='%(refname) %(objectname)' refs/heads/main", forge).stdout


def _log(tiny: TinyForge, job_id: str) -> str:
    return (tiny.forge / "mlops-queue" / "logs" / f"{job_id}.log").read_text()


@pytest.mark.slow
def test_a_stage_cannot_move_main_in_the_forge(
    tiny: TinyForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_FORGE_PATH", str(tiny.forge))  # as 'mlops runner' reads it
    main = _refs(tiny.forge)
    _push_stage(tiny, "attack", MOVE_MAIN.format(forge=str(tiny.forge.resolve())))

    [job] = run_runner(tiny.forge, settings=RunnerSettings())

    assert _refs(tiny.forge) == main
    log = _log(tiny, job.id)
    attempts = [line for line in log.splitlines() if line.startswith("attack ")]
    assert {"attack relative", "attack absolute", "attack remote", "attack env"} <= {
        line.split(":")[0] for line in attempts
    }
    assert not [line for line in attempts if "exit 0" in line or "wrote the ref file" in line]
    assert "attack absolute: ref file refused: Permission denied" in log
    assert job.state == "done", job.result  # the attack failed; the training itself did not


@pytest.mark.slow
def test_hooks_and_config_a_stage_plants_in_the_work_tree_never_run(
    tiny: TinyForge, tmp_path: Path
) -> None:
    mark = tmp_path / "pwned"
    _push_stage(tiny, "hooks", PLANT_HOOKS.format(mark=str(mark)))
    work = tmp_path / "runner-work"

    [job] = run_runner(tiny.forge, settings=RunnerSettings(work_dir=work))
    _push_stage(tiny, "hooks-again", "print('a second job runs git in the same work tree')\n")
    [second] = run_runner(tiny.forge, settings=RunnerSettings(work_dir=work))

    assert not mark.exists()
    log = _log(tiny, job.id)
    assert "refused .git/hooks/post-commit: Read-only file system" in log
    assert "refused .git/config: Read-only file system" in log
    assert "hooksPath" not in (work / ".git" / "config").read_text()
    assert (job.state, second.state) == ("done", "done"), (job.result, second.result)


@pytest.mark.slow
def test_a_stage_that_edits_files_outside_its_outputs_fails_and_commits_nothing(
    tiny: TinyForge,
) -> None:
    sha = _push_stage(tiny, "sneaky", EDIT_OUTSIDE_OUTPUTS)

    [job] = run_runner(tiny.forge, settings=RunnerSettings())

    assert job.state == "failed"
    assert job.result["error"] == (
        f"the pipeline of {sha[:12]} changed files that no dvc.yaml declares as outputs "
        "(envs/prod.yaml, policies/waivers.yaml); nothing was committed back: declare them "
        "as outs, metrics or plots"
    )
    assert sh("git rev-parse sneaky", tiny.forge).stdout.strip() == sha
    assert sh("git show main:envs/prod.yaml", tiny.forge).stdout == "models: {}\n"


def _start_runner(forge: Path, work: Path) -> subprocess.Popen[bytes]:
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from mlops_gitops.ci import RunnerSettings, run_runner\n"
        "run_runner(sys.argv[1], settings=RunnerSettings(work_dir=Path(sys.argv[2])))\n"
    )
    return subprocess.Popen([sys.executable, "-c", script, str(forge), str(work)])


def _poll(path: Path, runner: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert runner.poll() is None, "the runner exited before the stage started"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)  # polling for the stage's own file, not waiting for a guess


@pytest.mark.slow
def test_after_kill_9_of_the_runner_the_orphan_is_ended_and_the_job_retried(
    tiny: TinyForge, tmp_path: Path
) -> None:
    _push_stage(tiny, "long", OUTLIVE_THE_RUNNER)
    work = tmp_path / "runner-work"
    runner = _start_runner(tiny.forge, work)
    _poll(work / ".dvc" / "tmp" / "attempted", runner)

    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    [running] = JobQueue(tiny.forge).list_jobs("running")
    assert running.group is not None
    orphan = ProcessGroup(*running.group)
    assert list_members(orphan), "the pipeline should outlive its runner"

    [job] = run_runner(tiny.forge, settings=RunnerSettings(work_dir=work))

    assert (job.state, job.attempts) == ("done", 2), job.result
    assert list_members(orphan) == []
    assert "is busy" not in _log(tiny, job.id)


def test_the_work_tree_holds_no_path_back_to_the_forge(tiny: TinyForge, tmp_path: Path) -> None:
    sha = sh("git rev-parse main", tiny.forge).stdout.strip()

    work = prepare_work_tree(tiny.forge, sha, work=tmp_path / "work")

    assert sh("git remote", work).stdout == ""
    assert not (work / ".git" / "objects" / "info" / "alternates").exists()
    objects = [p for p in (work / ".git" / "objects").rglob("*") if p.is_file()]
    assert objects and all(p.stat().st_nlink == 1 for p in objects)  # copied, not hard-linked
    assert str(tiny.forge.resolve()) not in (work / ".git" / "config").read_text()


def test_a_work_tree_inside_the_forge_is_refused(tiny: TinyForge) -> None:
    with pytest.raises(ForgeError, match="must lie outside the forge"):
        run_runner(tiny.forge, settings=RunnerSettings(work_dir=tiny.forge / "mlops-runner"))


def test_without_a_sandbox_the_runner_refuses_to_start(
    tiny: TinyForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sh("git commit -q --allow-empty -m 'Any change' && git push -q origin HEAD:feature", tiny.clone)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "git")
    monkeypatch.setenv("PATH", str(bin_dir))  # a machine without util-linux's unshare

    with pytest.raises(ForgeError) as refused:
        run_runner(tiny.forge, settings=RunnerSettings())

    assert str(refused.value).startswith(
        "the runner cannot sandbox pushed code on this machine (unshare, setpriv, findmnt, "
        "mount not found (install util-linux))"
    )
    assert "--no-sandbox" in str(refused.value)
    assert [j.state for j in JobQueue(tiny.forge).list_jobs()] == ["pending"]


def test_links_a_stage_left_in_the_kept_dvc_folders_are_removed_before_the_next_job(
    tiny: TinyForge, tmp_path: Path
) -> None:
    sha = sh("git rev-parse main", tiny.forge).stdout.strip()
    work = prepare_work_tree(tiny.forge, sha, work=tmp_path / "work")
    shutil.rmtree(work / ".dvc" / "tmp", ignore_errors=True)
    (work / ".dvc" / "tmp").symlink_to(tiny.forge / "hooks")  # where the runner would write
    hooks = sorted((tiny.forge / "hooks").iterdir())

    prepare_work_tree(tiny.forge, sha, work=work)

    assert not (work / ".dvc" / "tmp").is_symlink()
    assert sorted((tiny.forge / "hooks").iterdir()) == hooks
