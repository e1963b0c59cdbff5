"""The scaffold's GitHub workflows: thin YAML over 'mlops ci', clean under actionlint and zizmor."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlops_gitops.project import template_root

GITHUB = template_root() / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if not found.exists():
        pytest.fail(f"{name} is not installed; pip install -r requirements/base.in")
    return str(found)


def _load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = YAML(typ="safe").load((GITHUB / "workflows" / name).read_text())
    return data


def test_workflows_pass_actionlint_with_the_gpu_label_declared() -> None:
    files = [str(p) for p in WORKFLOWS]
    config = str(GITHUB / "actionlint.yaml")
    proc = subprocess.run(
        [_tool("actionlint"), "-oneline", "-config-file", config, *files],
        capture_output=True,
        check=False,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_refuses_the_gpu_label_without_the_config(tmp_path: Path) -> None:
    shutil.copy(GITHUB / "workflows" / "train.yml", tmp_path / "train.yml")
    proc = subprocess.run(
        [_tool("actionlint"), "-oneline", str(tmp_path / "train.yml")],
        capture_output=True,
        check=False,
        text=True,
    )
    assert proc.returncode == 1
    assert 'label "gpu" is unknown' in proc.stdout


def test_workflows_have_no_high_zizmor_findings() -> None:
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", "--min-severity", "high", str(GITHUB / "workflows")],
        capture_output=True,
        check=False,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_train_runs_on_a_gpu_runner_and_cancels_superseded_runs() -> None:
    train = _load("train.yml")
    job = train["jobs"]["train"]

    assert train["on"]["push"]["branches"] == ["**"]
    assert job["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert train["concurrency"] == {"group": "train-${{ github.ref }}", "cancel-in-progress": True}
    assert any("mlops ci train" in step.get("run", "") for step in job["steps"])


def test_gate_reruns_on_reviews_and_deploy_follows_manifest_merges() -> None:
    gate, deploy = _load("gate.yml"), _load("deploy.yml")

    assert gate["on"]["pull_request"]["paths"] == ["envs/**"]
    assert "pull_request_review" in gate["on"]
    assert deploy["on"]["push"] == {"branches": ["main"], "paths": ["envs/**"]}
    steps = deploy["jobs"]["deploy"]["steps"]
    assert "mlops deploy --env" in steps[-2]["run"] and "--start none" in steps[-2]["run"]
    assert "mlops ci keep-records --forge github deploy deploy" in steps[-1]["run"]


def test_bot_records_never_push_to_a_branch() -> None:
    for name in ("deploy.yml", "monitor.yml", "approvals.yml", "gate.yml"):
        runs = [s.get("run", "") for job in _load(name)["jobs"].values() for s in job["steps"]]
        assert not [r for r in runs if "git push" in r or "git commit" in r], name
    monitor = [s.get("run", "") for s in _load("monitor.yml")["jobs"]["monitor"]["steps"]]
    assert monitor[-3:] == [
        "mlops ci restore-records monitoring monitoring",
        monitor[-2],  # a loop over every environment with a monitoring section
        "if [ -d monitoring ]; then mlops ci keep-records --forge github monitoring monitoring; fi",
    ]
    assert 'mlops monitor --env "$env"' in monitor[-2] and "envs/*.yaml" in monitor[-2]
    approvals = _load("approvals.yml")
    assert approvals["on"]["push"] == {"branches": ["main"]}
    assert approvals["jobs"]["record"]["steps"][-1]["run"] == (
        "mlops ci record-approvals --forge github"
    )
