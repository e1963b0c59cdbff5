"""End to end on the local forge: push, the hook queues, the runner trains, notes appear;
promotions to prod need two signed approvals from the allowed signers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_gitops.ci import RunnerSettings, run_runner
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge


def _push_param_change(tiny: TinyForge, lr: str) -> str:
    sh("git checkout -q -b feature", tiny.clone)
    (tiny.clone / "params.yaml").write_text(f"train:\n  lr: {lr}\n")
    sh("git commit -qam 'Raise the learning rate'", tiny.clone)
    return sh("git push origin feature", tiny.clone).stderr


@pytest.mark.slow
def test_push_queues_and_the_runner_trains_reports_and_gates(tiny: TinyForge) -> None:
    pushed = _push_param_change(tiny, "0.2")
    assert "remote: queued the pipeline for feature @" in pushed

    [job] = run_runner(tiny.forge, settings=RunnerSettings())

    assert job.state == "done", job.result
    tip = sh("git rev-parse feature", tiny.forge).stdout.strip()
    assert job.result["committed"] == tip
    assert "roc_auc" in sh(f"git show {tip}:metrics/evaluate.json", tiny.forge).stdout
    sh("mlops forge track && git fetch -q origin", tiny.clone)
    report = sh(f"git notes --ref=mlops-reports show {tip}", tiny.clone).stdout
    gate = json.loads(sh(f"git notes --ref=mlops-gate show {tip}", tiny.clone).stdout)
    assert report.startswith("✅ **mlops/gate: pass**")
    assert "| roc_auc | 0.8 | 0.7 | +0.1 |" in report
    assert "| `train.lr` | `0.1` | `0.2` |" in report
    assert f"![roc](plots/{tip}/roc.png)" in report
    assert (
        sh(f"git cat-file -t refs/notes/mlops-reports:plots/{tip}/roc.png", tiny.clone).stdout
        == "blob\n"
    )
    assert (gate["decision"], gate["sha"]) == ("pass", tip)
    assert (
        "Running stage 'train'"
        in Path(tiny.forge / "mlops-queue" / "logs" / f"{job.id}.log").read_text()
    )
    sh(f"git checkout -q main && git merge -q --ff-only {tip}", tiny.clone)
    sh("git push -q origin main", tiny.clone)  # the gate passed: main may move there


@pytest.mark.slow
def test_a_weak_candidate_is_blocked_and_main_refuses_it(tiny: TinyForge) -> None:
    _push_param_change(tiny, "0.01")
    [job] = run_runner(tiny.forge, settings=RunnerSettings())
    tip = sh("git rev-parse feature", tiny.forge).stdout.strip()

    assert job.result["decision"] == "block"
    sh(f"git fetch -q origin && git checkout -q main && git merge -q --ff-only {tip}", tiny.clone)
    refused = sh("git push origin main", tiny.clone, check=False)
    assert refused.returncode != 0
    assert f"main: the gate blocks {tip[:12]}: blocked by min-auc" in refused.stderr


def test_main_refuses_a_commit_the_runner_has_not_gated(tiny: TinyForge) -> None:
    (tiny.clone / "README.md").write_text("untrained\n")
    sh("git add README.md && git commit -qm 'Direct push'", tiny.clone)

    refused = sh("git push origin main", tiny.clone, check=False)

    assert refused.returncode != 0
    assert "has no gate decision yet" in refused.stderr


def test_clients_cannot_write_the_runner_notes(tiny: TinyForge) -> None:
    sh('git notes --ref=mlops-gate add -m \'{"decision": "pass"}\' HEAD', tiny.clone)

    refused = sh("git push origin refs/notes/mlops-gate", tiny.clone, check=False)

    assert refused.returncode != 0
    assert "written by the forge only" in refused.stderr


def _promotion(tiny: TinyForge) -> str:
    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    register(tiny.clone, "credit-default", version="v1.0.0")
    sh("git push -q origin --tags", tiny.clone)
    change = promote(tiny.clone, "credit-default", "v1.0.0", to="prod")
    sh(f"git checkout -q main && git merge -q --ff-only {change.branch}", tiny.clone)
    return change.commit


def _approve(tiny: TinyForge, sha: str, name: str) -> str:
    from mlops_gitops.forge.signed_approvals import approve

    tag = approve(tiny.clone, "prod", sha, key=tiny.keys[name], user=name, remote=None)
    return f"refs/tags/{tag}"


@pytest.mark.slow
def test_a_promotion_to_prod_needs_two_signed_approvals_of_allowed_signers(tiny: TinyForge) -> None:
    sha = _promotion(tiny)

    unapproved = sh("git push origin main", tiny.clone, check=False)
    assert unapproved.returncode != 0
    assert "promotion to prod blocked" in unapproved.stderr
    assert "promotion-approvals" in unapproved.stderr

    tags = [_approve(tiny, sha, "alice")]
    unknown = sh(
        f"git push origin main {tags[0]} {_approve(tiny, sha, 'mallory')}", tiny.clone, check=False
    )
    assert unknown.returncode != 0
    assert "mallory: not a valid approval: its signature does not verify" in unknown.stderr
    one_valid = sh(f"git push origin main {' '.join(tags)}", tiny.clone, check=False)
    assert one_valid.returncode != 0
    assert "approvals counted {ml-leads: 1}" in one_valid.stderr

    tags.append(_approve(tiny, sha, "bob"))
    accepted = sh(f"git push origin main {' '.join(tags)}", tiny.clone, check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert sh("git rev-parse main", tiny.forge).stdout.strip() == sha
