"""Decisions, evidence and approvals reach Git on both forges: a fresh clone audits and replays.

GitHub (the emulator, branch protection on): push, train, report, gate,
review, merge, record the approvals; the local forge: push, gate in the
hooks, signed approvals, land. Each ends in a fresh clone that fetches the
notes and shows the decision, its evidence digest and the reviewers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import github3
import pytest
from forge.emulator import GitHubEmulator

from mlops_gitops.ci.commands import CiOptions, ci_gate, ci_record_approvals, ci_train
from mlops_gitops.ci.gate_status import replay_noted
from mlops_gitops.forge.github import GitHubForge
from mlops_gitops.forge.protection import (
    Protection,
    apply_protection,
    render_branch_protection,
    render_rulesets,
)
from tests.helpers import sh
from tests.helpers.tiny_forge import TinyForge

from .test_github_e2e import _env, _pull, _review


def protect_main(emu: GitHubEmulator, *, reviews: int = 2) -> None:
    """Apply the branch protection and tag rulesets the admin guide prescribes."""
    admin = GitHubForge("acme/models", token="ghp_alice", api_url=emu.api_url)
    protection = Protection(
        org="acme",
        branch="main",
        codeowners="",
        branch_protection=render_branch_protection(reviews=reviews),
        rulesets=render_rulesets(app_id=77),
    )
    apply_protection(admin, protection)


def fresh_audit(forge: Path, where: Path) -> tuple[Path, list[Any]]:
    """Clone ``forge`` into ``where``, fetch the notes, and return the audit events."""
    from mlops_gitops.audit import list_events

    sh(f"git clone -q {forge} {where}", where.parent)
    sh("git config --add remote.origin.fetch '+refs/notes/mlops-*:refs/notes/mlops-*'", where)
    sh("git fetch -q origin", where)
    return where, list_events(where)


def _promote(tiny: TinyForge) -> str:
    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    register(tiny.clone, "credit-default", version="v1.0.0", check_remote=False)
    sh("git push -q origin --tags", tiny.clone)
    return promote(tiny.clone, "credit-default", "v1.0.0", to="prod").branch


def _evidence_digest(clone: Path, sha: str) -> str:
    record = json.loads(sh(f"git notes --ref=mlops-evidence show {sha}", clone).stdout)
    return str(record["decision"]["bundle_digest"])


def _audited(events: list[Any], head: str) -> tuple[Any, list[Any]]:
    gates = [e for e in events if e.kind == "gate" and e.commit == head]
    approvals = [e for e in events if e.kind == "approve" and "counted at merge" in e.detail]
    return gates[-1], approvals


@pytest.mark.slow
def test_a_fresh_clone_of_github_audits_the_decision_evidence_and_reviewers(
    hosted: tuple[TinyForge, GitHubEmulator], tmp_path: Path
) -> None:
    tiny, emu = hosted
    branch = _promote(tiny)
    sh(f"git checkout -q {branch} && git push -q origin {branch}", tiny.clone)
    protect_main(emu)
    pull = _pull(emu, branch)
    env = _env(emu, tmp_path, branch=branch, pull=pull)

    trained = ci_train(tiny.clone, CiOptions(forge="github", commit=True), env)
    head = sh("git rev-parse HEAD", tiny.clone).stdout.strip()
    for token in ("ghp_alice", "ghp_bob"):
        _review(emu, pull, token)
    gated = ci_gate(tiny.clone, CiOptions(forge="github"), env)
    gh = github3.GitHub(token="ghp_ada")
    gh.session.base_url = emu.api_url
    merged = gh.session.put(f"{emu.api_url}/repos/acme/models/pulls/{pull}/merge", json={})
    assert merged.status_code == 200, merged.text
    merge = merged.json()["sha"]
    sh("git fetch -q origin && git checkout -q --detach origin/main", tiny.clone)
    recorded = ci_record_approvals(tiny.clone, CiOptions(forge="github"), env=env)

    clone, events = fresh_audit(tiny.forge, tmp_path / "fresh")
    gate, approvals = _audited(events, head)
    replayed = replay_noted(clone, head)

    assert trained.gate.status.decision == "block" and gated.status.decision == "pass"
    assert recorded is not None and merge in recorded.notes
    assert gate.summary.startswith(f"prod: gate pass on {head[:8]}")
    assert f"evidence {_evidence_digest(clone, head)}" in gate.detail
    assert sorted((a.actor, a.commit, a.landed) for a in approvals) == [
        ("alice", head, merge),
        ("bob", head, merge),
    ]
    assert all("(github-review)" in a.detail and "ml-leads" in a.detail for a in approvals)
    assert replayed.matches_record is True
    assert replayed.decision.verdict == "pass"


@pytest.mark.slow
def test_a_fresh_clone_of_the_local_forge_audits_the_same(
    tiny: TinyForge, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_gitops.forge.signed_approvals import approve

    branch = _promote(tiny)
    sh(f"git checkout -q main && git merge -q --ff-only {branch}", tiny.clone)
    head = sh("git rev-parse HEAD", tiny.clone).stdout.strip()
    names = ("alice", "bob")
    tags = [approve(tiny.clone, "prod", head, key=tiny.keys[n], user=n, remote=None) for n in names]
    sh(f"git push -q origin main {' '.join(f'refs/tags/{t}' for t in tags)}", tiny.clone)

    clone, events = fresh_audit(tiny.forge, tmp_path / "fresh")
    gate, approvals = _audited(events, head)
    replayed = replay_noted(clone, head)

    assert gate.summary.startswith(f"prod: gate pass on {head[:8]}")
    assert f"evidence {_evidence_digest(clone, head)}" in gate.detail
    assert sorted((a.actor, a.commit, a.landed) for a in approvals) == [
        ("alice@example.com", head, head),
        ("bob@example.com", head, head),
    ]
    assert all("ml-leads" in a.detail for a in approvals)
    assert len([e for e in events if e.kind == "approve"]) == 2  # the tags are the noted ones
    assert replayed.matches_record is True
    monkeypatch.chdir(clone)
    shown = cli("gate", "--replay", head[:12])
    assert shown.exit_code == 0, shown.stderr
    assert "replay: the same decision as the recorded one" in shown.stdout


def test_replay_of_a_commit_without_a_noted_record_names_the_fetch(
    tiny: TinyForge, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny.clone)

    result = cli("gate", "--replay", "HEAD")

    assert result.exit_code == 1
    assert "no gate record is noted on it (refs/notes/mlops-evidence)" in result.stderr
    assert cli("gate", "--replay", "HEAD", "--bundle", "x.json").exit_code == 2
