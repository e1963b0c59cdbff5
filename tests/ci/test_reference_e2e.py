"""The GitOps loop on the reference project: its real pipeline and its real policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_gitops.ci import run_runner
from mlops_gitops.forge.local import init_forge
from tests.helpers import sh


@pytest.mark.slow
def test_push_of_a_param_change_trains_and_notes_report_and_gate(
    project: Path, tmp_path: Path
) -> None:
    forge = init_forge(tmp_path / "forge.git").path
    sh(f"git commit -qam 'Use the local DVC remote' && git remote add origin {forge}", project)
    sh("git push -q origin main", project)
    sh("git checkout -q -b slower", project)
    sh("sed -i 's/learning_rate: 0.1$/learning_rate: 0.08/' params.yaml", project)
    sh("git commit -qam 'Lower the learning rate'", project)
    assert "queued the pipeline for slower" in sh("git push origin slower", project).stderr

    [job] = [j for j in run_runner(forge) if j.branch == "slower"]

    assert job.state == "done", job.result
    tip = sh("git rev-parse slower", forge).stdout.strip()
    report = sh(f"git notes --ref=mlops-reports show {tip}", forge).stdout
    gate = json.loads(sh(f"git notes --ref=mlops-gate show {tip}", forge).stdout)
    assert gate["decision"] == job.result["decision"] in ("pass", "warn", "block")
    assert f"**mlops/gate: {gate['decision']}**" in report.splitlines()[0]
    assert "| `model.sklearn.learning_rate` | `0.1` | `0.08` |" in report
    assert {"train", "evaluate"} <= set(job.result["stages"])  # type: ignore[arg-type]
    assert (
        sh(f"git cat-file -t refs/notes/mlops-reports:plots/{tip}/roc.png", forge).stdout
        == "blob\n"
    )
