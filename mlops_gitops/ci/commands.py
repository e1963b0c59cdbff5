"""The operations behind ``mlops ci ...`` and ``mlops report``: one function per command."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops.ci.context import CiContext, base_revision, read_ci_context
from mlops_gitops.ci.gate import GateOutcome, evaluate_gate, forge_approvals
from mlops_gitops.ci.train import TrainOutcome, TrainRequest, push_commit, train_change
from mlops_gitops.errors import ConfigError
from mlops_gitops.forge import open_forge
from mlops_gitops.forge.base import Forge, Publication, Report, Target
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
    target = Target(context.sha, context.branch, context.base, context.pull)
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
    target = Target(context.sha, context.branch, context.base, context.pull)
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
