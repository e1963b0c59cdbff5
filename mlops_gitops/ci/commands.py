"""The operations behind ``mlops ci ...`` and ``mlops report``: one function per command."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops.ci.gate_status import GateOutcome, evaluate_gate, forge_approvals
from mlops_gitops.ci.on_push import TrainOutcome, TrainRequest, push_commit, train_change
from mlops_gitops.ci.run_context import CiContext, base_revision, read_ci_context
from mlops_gitops.errors import ConfigError
from mlops_gitops.forge import open_forge
from mlops_gitops.forge.base import ChangeRef, Forge, Publication, Report
from mlops_gitops.forge.records import NoteUpdate
from mlops_gitops.reports import (
    PolicyRow,
    PrReport,
    RunFacts,
    Verdict,
    build_pr_context,
    build_pr_report,
)

RECORD_DIR = ".mlops/gate"


@dataclass(frozen=True)
class CiOptions:
    """Options common to the CI commands."""

    forge: str | None = None
    base: str | None = None
    commit: bool = False
    environment: str | None = None


def ci_train(root: Path, options: CiOptions, env: Mapping[str, str] | None = None) -> TrainOutcome:
    """Train the checked-out change, commit back when asked, publish report and gate."""
    env = os.environ if env is None else env
    context = read_ci_context(root, base=options.base, env=env)
    forge = open_forge(options.forge, root=root, env=env)
    request = _request(root, context)
    commit_back = None
    if options.commit:
        token = env.get("GITHUB_TOKEN") if forge.name == "github" else None
        commit_back = push_commit(root, context.branch, token=token)
    return train_change(request, forge, commit_back=commit_back)


def ci_gate(root: Path, options: CiOptions, env: Mapping[str, str] | None = None) -> GateOutcome:
    """Evaluate the gate of the pull request with its approvals; set the required status."""
    env = os.environ if env is None else env
    context = read_ci_context(root, base=options.base, env=env)
    forge = open_forge(options.forge, root=root, env=env)
    target = ChangeRef(context.sha, context.branch, context.base, context.pull)
    approvals = forge_approvals(forge, target, env=options.environment, opener=context.author)
    outcome = evaluate_gate(
        root,
        base=base_revision(root, context.base),
        branch=context.branch,
        environment=options.environment,
        approvals=[approvals],
        target_url=context.run_url,
    )
    forge.set_gate(target, outcome.status)
    return outcome


def report_change(
    root: Path, options: CiOptions, *, publish: bool, env: Mapping[str, str] | None = None
) -> tuple[PrReport, Publication | None]:
    """Render the report of the work tree (with the gate record of HEAD when there is one)."""
    env = os.environ if env is None else env
    context = read_ci_context(root, base=options.base, env=env)
    facts = _recorded_facts(root / RECORD_DIR / f"{context.sha}.json", context.run_url)
    report_context = build_pr_context(
        root,
        branch=context.branch,
        sha=context.sha,
        base=context.base,
        base_rev=base_revision(root, context.base),
        facts=facts,
    )
    rendered = build_pr_report(report_context, root)
    if not publish:
        return rendered, None
    forge: Forge = open_forge(options.forge, root=root, env=env)
    target = ChangeRef(context.sha, context.branch, context.base, context.pull)
    return rendered, forge.publish_report(target, Report(rendered.markdown, rendered.attachments))


def _request(root: Path, context: CiContext) -> TrainRequest:
    return TrainRequest(
        root=root,
        branch=context.branch,
        sha=context.sha,
        base=context.base,
        base_rev=base_revision(root, context.base),
        pull=context.pull,
        run_url=context.run_url,
    )


def _recorded_facts(record: Path, run_url: str | None) -> RunFacts:
    """Read the verdict and rule results of a gate record (``mlops gate`` writes it)."""
    if not record.is_file():
        return RunFacts(run_url=run_url)
    try:
        decision: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))["decision"]
        rows = [
            PolicyRow(
                rule=r["id"],
                level=r.get("severity") or "-",
                outcome="fail" if r["outcome"] == "block" else r["outcome"],
                message=r.get("message", ""),
            )
            for r in decision.get("results", [])
        ]
        verdict = Verdict(
            decision=decision["verdict"], summary=f"recorded by 'mlops gate' in {record.name}"
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{record}: not a gate record; rerun 'mlops gate' or delete it") from exc
    return RunFacts(verdict=verdict, policies=rows, run_url=run_url)


def ci_record_approvals(
    root: Path, options: CiOptions, *, merge: str = "HEAD", env: Mapping[str, str] | None = None
) -> NoteUpdate | None:
    """Note on a merge commit the pull-request reviews that counted (an approvals note)."""
    from mlops_gitops.ci.merged import record_pull_approvals

    env = os.environ if env is None else env
    return record_pull_approvals(root, open_forge(options.forge, root=root, env=env), merge)


def ci_keep_records(
    root: Path,
    options: CiOptions,
    *,
    kind: str,
    folder: str,
    env: Mapping[str, str] | None = None,
) -> NoteUpdate:
    """Keep ``folder`` as the ``kind`` record noted on HEAD (never a commit to a branch)."""
    from mlops_gitops import scm
    from mlops_gitops.forge.records import folder_update

    env = os.environ if env is None else env
    sha = scm.git("rev-parse", "HEAD", cwd=root).strip()
    update = folder_update(root, folder, kind, sha)
    open_forge(options.forge, root=root, env=env).keep_notes([update])
    return update


def ci_restore_records(
    root: Path, *, kind: str, folder: str, env: Mapping[str, str] | None = None
) -> list[str]:
    """Fetch the forge's notes and write the latest ``kind`` record of ``folder`` into ``root``."""
    from mlops_gitops.forge.records import fetch_notes, restore_folder

    env = os.environ if env is None else env
    token = env.get("MLOPS_GITHUB_TOKEN") or env.get("GITHUB_TOKEN")
    fetch_notes(root, token=token)
    return restore_folder(root, folder, kind)
