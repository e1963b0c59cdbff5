"""Train on push: pull, reproduce, push, record, gate and report one change.

The same sequence runs in a GitHub workflow (``mlops ci train``) and in the
local forge's runner: ``dvc pull`` with the run-cache, ``dvc repro`` (each
stage timed), ``dvc push`` with the run-cache, an optional commit of what
the pipeline changed (``dvc.lock``, metrics), then the gate's decision and
the PR report, published to the forge.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from mlops_gitops import pipeline, scm
from mlops_gitops.ci.gate_status import GateOutcome, error_outcome, evaluate_gate, forge_approvals
from mlops_gitops.ci.writeback import RUNNER_EMAIL, RUNNER_NAME
from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.forge.base import ChangeRef, Forge, Publication, Report
from mlops_gitops.reports import RunFacts, StageTime, build_pr_context, build_pr_report

log = logging.getLogger(__name__)

RUNNER_IDENTITY = ("-c", f"user.name={RUNNER_NAME}", "-c", f"user.email={RUNNER_EMAIL}")
CommitBack = Callable[[str], str]


@dataclass(frozen=True, kw_only=True)
class TrainRequest:
    """What to train and where to publish: the work tree, the change, the base."""

    root: Path
    branch: str
    sha: str
    base: str = "main"
    base_rev: str | None = None
    pull: int | None = None
    run_url: str | None = None
    now: datetime | None = None
    launcher: pipeline.Launcher | None = None


@dataclass(frozen=True, kw_only=True)
class TrainOutcome:
    """What a run did: stage times, the commit it made, the gate and where the report went."""

    target: ChangeRef
    stages: list[pipeline.StageRun]
    committed: str | None
    gate: GateOutcome
    report: Publication
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def overhead(self) -> float:
        """Seconds spent outside DVC's stages (pull, push, commit, gate, report)."""
        return sum(self.seconds.values()) - sum(s.seconds for s in self.stages)

    def summary(self) -> dict[str, Any]:
        """Return the outcome as JSON types (job results, ``--json``)."""
        return {
            "sha": self.target.sha,
            "branch": self.target.branch,
            "committed": self.committed,
            "decision": self.gate.status.decision,
            "gate": self.gate.status.summary,
            "report": self.report.url or self.report.location,
            "stages": {
                s.stage: {"status": s.status, "seconds": round(s.seconds, 3)} for s in self.stages
            },
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "overhead_seconds": round(self.overhead, 3),
        }


def train_change(
    request: TrainRequest,
    forge: Forge,
    *,
    commit_back: CommitBack | None = None,
    log_file: IO[str] | None = None,
) -> TrainOutcome:
    """Run the pipeline on the change at ``request.root`` and publish its gate and report.

    Raises:
        PipelineError: ``dvc pull``, ``repro`` or ``push`` failed (nothing is published).
        ForgeError: the forge refused the report or the status.
    """
    seconds: dict[str, float] = {}
    root, launcher = request.root, request.launcher

    def pull() -> str:
        return pipeline.dvc("pull", "--run-cache", "--allow-missing", cwd=root, launcher=launcher)

    _timed(seconds, "pull", pull)
    stages = _timed(
        seconds, "repro", lambda: pipeline.repro_timed(root, log=log_file, launcher=launcher)
    )
    _timed(seconds, "push", lambda: pipeline.push(root, run_cache=True, launcher=launcher))
    sha = request.sha
    committed = None
    if commit_back is not None and scm.is_dirty(root, untracked=True):
        committed = _timed(
            seconds, "commit", lambda: commit_back(f"Reproduce the pipeline for {sha[:12]}")
        )
        sha = committed or sha
    target = ChangeRef(sha, request.branch, request.base, request.pull)
    gate = _timed(seconds, "gate", lambda: _gate(request, forge, target))
    facts = RunFacts(
        verdict=gate.verdict,
        policies=gate.policies,
        stages=[StageTime(stage=s.stage, seconds=s.seconds, status=s.status) for s in stages],
        run_url=request.run_url,
    )
    report = _timed(seconds, "report", lambda: publish_report(request, forge, target, facts))
    _timed(seconds, "status", lambda: forge.set_gate(target, gate.status))
    return TrainOutcome(
        target=target, stages=stages, committed=committed, gate=gate, report=report, seconds=seconds
    )


def publish_report(
    request: TrainRequest, forge: Forge, target: ChangeRef, facts: RunFacts
) -> Publication:
    """Render the PR report of the work tree and publish it for ``target``."""
    context = build_pr_context(
        request.root,
        branch=target.branch,
        sha=target.sha,
        base=request.base,
        base_rev=request.base_rev,
        facts=facts,
    )
    rendered = build_pr_report(context, request.root)
    return forge.publish_report(target, Report(rendered.markdown, rendered.attachments))


def _gate(request: TrainRequest, forge: Forge, target: ChangeRef) -> GateOutcome:
    base = request.base_rev or request.base
    try:
        return evaluate_gate(
            request.root,
            base=base,
            branch=target.branch,
            approvals=[forge_approvals(forge, target)],
            now=request.now,
            target_url=request.run_url,
        )
    except MlopsError as exc:
        log.error("gate: %s", format_chain(exc))
        return error_outcome(format_chain(exc), target_url=request.run_url)


def _timed(seconds: dict[str, float], name: str, step: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    try:
        return step()
    finally:
        seconds[name] = time.perf_counter() - start
        log.info("%s: %.2f s", name, seconds[name])


def commit_work(root: Path, message: str) -> str:
    """Commit everything the pipeline changed in ``root`` as the runner; return the commit."""
    scm.git("add", "-A", cwd=root)
    scm.git(*RUNNER_IDENTITY, "commit", "-q", "--no-verify", "-m", message, cwd=root)
    return scm.rev_parse("HEAD", root)


def push_commit(
    root: Path, branch: str, *, remote: str = "origin", token: str | None = None
) -> Callable[[str], str]:
    """Return a commit-back that commits in ``root`` and pushes to ``remote``'s ``branch``.

    With ``token`` the push authenticates as GitHub Actions' checkout does
    (an ``http.extraheader``), so the workflow needs no stored credentials.
    """

    def commit_back(message: str) -> str:
        sha = commit_work(root, message)
        auth: tuple[str, ...] = ()
        if token:
            import base64

            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            auth = ("-c", f"http.extraheader=AUTHORIZATION: basic {basic}")
        scm.git(*auth, "push", "-q", remote, f"{sha}:refs/heads/{branch}", cwd=root)
        return sha

    return commit_back
