"""The local forge's runner: train each queued push in a work tree that cannot reach the forge.

The work tree is a git repository outside the bare repository (by default
``$XDG_CACHE_HOME/mlops-runner/<forge name>-<hash of its path>``), filled by
fetching from the forge: no remote, no alternates, objects copied. It
persists between jobs, so its DVC cache does; each job checks out the
pushed commit afresh. Every DVC process runs in the sandbox of
:mod:`mlops_gitops.ci.sandbox` and in a process group recorded in the job,
so a later runner can end it after a crash. What the pipeline changed goes
back only through :mod:`mlops_gitops.ci.writeback` (declared outputs, a
commit built in the forge, a compare-and-swap of the branch).
"""

from __future__ import annotations

import configparser
import hashlib
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_gitops import pipeline, scm
from mlops_gitops.ci import sandbox, writeback
from mlops_gitops.ci.on_push import TrainRequest, train_change
from mlops_gitops.ci.writeback import SAFE_GIT
from mlops_gitops.forge.base import ZERO_SHA, ForgeError
from mlops_gitops.forge.local import LocalForge
from mlops_gitops.forge.queue import Job, JobQueue
from mlops_gitops.forge.receipts import RUNNER_PUSHER, record_receipts
from mlops_gitops.forge.runner import Wait, run_queue

log = logging.getLogger(__name__)

KEEP = ("/.dvc/cache", "/.dvc/tmp", "/.dvc/config.local")
# DVC's lock state that a killed process leaves behind (the repo lock and the rwlock).
STALE_LOCKS = (".dvc/tmp/lock", ".dvc/tmp/rwlock", ".dvc/tmp/rwlock.lock")
REFS = "+refs/heads/*:refs/remotes/origin/*"


@dataclass(frozen=True, kw_only=True)
class RunnerSettings:
    """How the runner works: base branch, commit-back, clock, work tree, sandbox.

    ``sandbox=False`` is the operator's explicit opt-out: pushed code then
    runs with the runner's own rights. ``writable`` adds paths the pipeline
    may write besides its work tree (a shared DVC cache, a local remote).
    """

    base: str = "main"
    commit: bool = True
    now: datetime | None = None
    work_dir: Path | None = None
    sandbox: bool = True
    writable: tuple[Path, ...] = ()


def run_runner(
    git_dir: str | Path, *, settings: RunnerSettings | None = None, wait: Wait | None = None
) -> list[Job]:
    """Process the forge's queued pushes one at a time (those pending, or on with ``wait``).

    Raises:
        ForgeError: ``git_dir`` is not a forge, another runner holds the queue, or
            the sandbox cannot be built here (and the operator did not opt out).
    """
    forge = LocalForge(git_dir)
    queue = JobQueue(forge.git_dir, max_attempts=forge.config.max_attempts)
    given = settings or RunnerSettings()
    chosen = replace(given, work_dir=find_work_tree(forge.git_dir, given.work_dir))
    if chosen.sandbox:
        sandbox.check_sandbox(forge.git_dir)
    else:
        log.warning("the sandbox is off: pushed code runs with this runner's rights")

    def process(job: Job, log_path: Path) -> dict[str, Any]:
        def watch(pid: int | None) -> None:
            queue.record_group(job, pid)

        return process_job(forge, job, log_path, chosen, watch=watch)

    return run_queue(queue, process, wait=wait)


def find_work_tree(git_dir: Path, chosen: Path | None = None) -> Path:
    """Return the runner's work tree of the forge ``git_dir`` (outside it).

    Raises:
        ForgeError: the chosen work tree lies inside the forge.
    """
    forge = Path(git_dir).resolve()
    if chosen is None:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        digest = hashlib.sha256(str(forge).encode()).hexdigest()[:12]
        chosen = cache / "mlops-runner" / f"{forge.name.removesuffix('.git')}-{digest}"
    work = chosen.resolve()
    if work == forge or forge in work.parents or work in forge.parents:
        raise ForgeError(
            f"{work}: the runner's work tree must lie outside the forge {forge}; "
            "choose another --work-dir"
        )
    return work


def process_job(
    forge: LocalForge,
    job: Job,
    log_path: Path,
    settings: RunnerSettings,
    *,
    watch: pipeline.Watch | None = None,
) -> dict[str, Any]:
    """Check out ``job.sha`` in the runner's work tree, train it, publish report and gate."""
    work = prepare_work_tree(forge.git_dir, job.sha, work=settings.work_dir)
    launcher = (
        _sandbox(forge.git_dir, work, settings).launcher(watch)
        if settings.sandbox
        else sandbox.unsandboxed(watch)
    )
    request = TrainRequest(
        root=work,
        branch=job.branch,
        sha=job.sha,
        base=settings.base,
        base_rev=_base_rev(work, job, settings.base),
        now=settings.now,
        launcher=launcher,
    )

    def commit_back(message: str) -> str:
        return _commit_back(forge.git_dir, work, job, message)

    with log_path.open("a", encoding="utf-8") as log_file:
        outcome = train_change(
            request, forge, commit_back=commit_back if settings.commit else None, log_file=log_file
        )
    return outcome.summary()


def prepare_work_tree(git_dir: Path, sha: str, *, work: Path | None = None) -> Path:
    """Return the runner's work tree with ``sha`` checked out clean (DVC cache kept).

    The work tree holds no path back to the forge: it is a fresh repository
    the runner fetches into (objects copied), with no remote configured.
    """
    work = _init_work_tree(work or find_work_tree(git_dir))
    for kept in (".dvc", *(k.lstrip("/") for k in KEEP)):
        if (work / kept).is_symlink():  # planted by an earlier stage; never followed
            (work / kept).unlink()
    _fetch_forge(git_dir, work)
    scm.git(*SAFE_GIT, "checkout", "-q", "-f", "--detach", sha, cwd=work)
    excludes = [arg for path in KEEP for arg in ("-e", path)]
    scm.git(*SAFE_GIT, "clean", "-ffdxq", *excludes, cwd=work)
    for stale in STALE_LOCKS:
        # nothing can hold them: the queue lock is ours and recovery ended any orphan
        (work / stale).unlink(missing_ok=True)
    return work


def _init_work_tree(work: Path) -> Path:
    if not (work / ".git").exists():
        work.mkdir(parents=True, exist_ok=True)
        scm.git("init", "-q", str(work))
    return work


def _fetch_forge(git_dir: Path, work: Path) -> None:
    source = str(Path(git_dir).resolve())
    scm.git(*SAFE_GIT, "fetch", "-q", "--prune", "--no-tags", source, REFS, cwd=work)


def _sandbox(git_dir: Path, work: Path, settings: RunnerSettings) -> sandbox.Sandbox:
    writable = (*settings.writable, *_dvc_storage(work, settings.base))
    return sandbox.Sandbox(work=work, hidden=(Path(git_dir).resolve(),), writable=writable)


def _dvc_storage(work: Path, base: str) -> tuple[Path, ...]:
    """Return the local DVC remote and cache that the base branch configures (trusted, reviewed)."""
    text = scm.show_file(f"refs/remotes/origin/{base}", ".dvc/config", work)
    if not text:
        return ()
    config = configparser.ConfigParser(interpolation=None)
    try:
        config.read_string(text)
    except configparser.Error:
        log.warning("%s:.dvc/config is not readable; no DVC storage is writable", base)
        return ()
    remote = config.get("core", "remote", fallback=None)
    sections = [f"'remote \"{remote}\"'", f'remote "{remote}"'] if remote else []
    urls = [config.get(s, "url", fallback=None) for s in sections]
    urls.append(config.get("cache", "dir", fallback=None))
    paths = []
    for url in filter(None, urls):
        local = url.removeprefix("file://")
        if "://" not in local:
            paths.append((work / ".dvc" / local).resolve())
    return tuple(p for p in paths if p.is_dir())


def _base_rev(work: Path, job: Job, base: str) -> str | None:
    """Compare a branch with the base branch; the base branch itself with its previous tip."""
    if job.branch != base:
        return f"origin/{base}"
    if job.old != ZERO_SHA:
        return job.old
    parent = f"{job.sha}^"
    return parent if scm.git_ok("rev-parse", "--verify", "--quiet", parent, cwd=work) else None


def _commit_back(git_dir: Path, work: Path, job: Job, message: str) -> str:
    """Commit the pipeline's declared outputs on the branch in the forge (compare-and-swap)."""
    paths = writeback.list_changes(work)
    writeback.check_changes(git_dir, job.sha, paths)
    sha = writeback.commit_in_forge(git_dir, job.sha, writeback.read_changes(work, paths), message)
    if not scm.git_ok("update-ref", f"refs/heads/{job.branch}", sha, job.sha, cwd=git_dir):
        log.warning(
            "%s moved during the run; the report stays on the pushed %s", job.branch, job.sha[:12]
        )
        return job.sha
    record_receipts(git_dir, [(job.sha, sha, job.ref)], pusher=RUNNER_PUSHER)
    _fetch_forge(git_dir, work)
    scm.git(*SAFE_GIT, "reset", "-q", "--mixed", sha, cwd=work)
    log.info("%s: committed the pipeline's changes as %s", job.branch, sha[:12])
    return sha
