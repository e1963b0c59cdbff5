"""The local forge's runner: train each queued push in a work tree beside the bare repository.

The work tree (``<forge>/mlops-runner/work``) is a clone that persists
between jobs, so its DVC cache does; each job checks out the pushed commit
afresh. What the pipeline changes is committed by the runner and the
branch moves to that commit with a compare-and-swap (a newer push wins and
the report goes on the pushed commit instead), without running the hooks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.ci.train import TrainRequest, commit_work, train_change
from mlops_gitops.forge.base import ZERO_SHA
from mlops_gitops.forge.local import LocalForge
from mlops_gitops.forge.queue import Job, JobQueue
from mlops_gitops.forge.receipts import RUNNER_PUSHER, record_receipts
from mlops_gitops.forge.runner import Wait, run_queue

log = logging.getLogger(__name__)

WORK_DIR = "mlops-runner/work"
KEEP = ("/.dvc/cache", "/.dvc/tmp", "/.dvc/config.local")


@dataclass(frozen=True)
class RunnerSettings:
    """How the runner works: the base branch, whether it commits back, a fixed clock."""

    base: str = "main"
    commit: bool = True
    now: datetime | None = None


def run_runner(
    git_dir: str | Path, *, settings: RunnerSettings | None = None, wait: Wait | None = None
) -> list[Job]:
    """Process the forge's queued pushes one at a time (those pending, or on with ``wait``).

    Raises:
        ForgeError: ``git_dir`` is not a forge or another runner holds the queue.
    """
    forge = LocalForge(git_dir)
    queue = JobQueue(forge.git_dir, max_attempts=forge.config.max_attempts)
    chosen = settings or RunnerSettings()

    def process(job: Job, log_path: Path) -> dict[str, Any]:
        return process_job(forge, job, log_path, chosen)

    return run_queue(queue, process, wait=wait)


def process_job(
    forge: LocalForge, job: Job, log_path: Path, settings: RunnerSettings
) -> dict[str, Any]:
    """Check out ``job.sha`` in the runner's work tree, train it, publish report and gate."""
    work = prepare_work_tree(forge.git_dir, job.sha)
    request = TrainRequest(
        root=work,
        branch=job.branch,
        sha=job.sha,
        base=settings.base,
        base_rev=_base_rev(work, job, settings.base),
        now=settings.now,
    )

    def commit_back(message: str) -> str:
        return _commit_back(forge.git_dir, work, job, message)

    with log_path.open("a", encoding="utf-8") as log_file:
        outcome = train_change(
            request, forge, commit_back=commit_back if settings.commit else None, log_file=log_file
        )
    return outcome.summary()


def prepare_work_tree(git_dir: Path, sha: str) -> Path:
    """Return the runner's work tree with ``sha`` checked out clean (DVC cache kept)."""
    work = Path(git_dir) / WORK_DIR
    if not (work / ".git").exists():
        work.parent.mkdir(parents=True, exist_ok=True)
        scm.git("clone", "-q", "--no-checkout", str(Path(git_dir).resolve()), str(work))
    scm.git("fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=work)
    scm.git("checkout", "-q", "-f", "--detach", sha, cwd=work)
    excludes = [arg for path in KEEP for arg in ("-e", path)]
    scm.git("clean", "-ffdxq", *excludes, cwd=work)
    return work


def _base_rev(work: Path, job: Job, base: str) -> str | None:
    """Compare a branch with the base branch; the base branch itself with its previous tip."""
    if job.branch != base:
        return f"origin/{base}"
    if job.old != ZERO_SHA:
        return job.old
    parent = f"{job.sha}^"
    return parent if scm.git_ok("rev-parse", "--verify", "--quiet", parent, cwd=work) else None


def _commit_back(git_dir: Path, work: Path, job: Job, message: str) -> str:
    sha = commit_work(work, message)
    scm.git("fetch", "-q", "--no-tags", str(work.resolve()), "HEAD", cwd=git_dir)
    if not scm.git_ok("update-ref", f"refs/heads/{job.branch}", sha, job.sha, cwd=git_dir):
        log.warning(
            "%s moved during the run; the report stays on the pushed %s", job.branch, job.sha[:12]
        )
        return job.sha
    record_receipts(git_dir, [(job.sha, sha, job.ref)], pusher=RUNNER_PUSHER)
    log.info("%s: committed the pipeline's changes as %s", job.branch, sha[:12])
    return sha
