"""The local forge's job queue: one JSON file per pushed branch tip, moved by renames.

Layout under ``<bare repository>/mlops-queue/``: ``pending/``, ``running/``,
``done/``, ``failed/`` hold the jobs, ``logs/<id>.log`` their output. A job
moves between folders with ``os.replace`` (atomic), so a crash leaves it in
exactly one place. A runner holds ``runner.lock`` (``flock``) while it works;
a runner that gets the lock moves jobs left in ``running/`` by a dead runner
back to ``pending/`` (retried), or to ``failed/`` after too many attempts,
after ending the process group the dead runner recorded in the job (its
``dvc repro`` would otherwise collide with the retry).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from mlops_gitops.forge.base import ForgeError
from mlops_gitops.forge.processes import ProcessGroup, end_group, find_group

log = logging.getLogger(__name__)

JobState = Literal["pending", "running", "done", "failed", "superseded"]
FOLDERS: tuple[JobState, ...] = ("pending", "running", "done", "failed")
QUEUE_DIR = "mlops-queue"


@dataclass(frozen=True, kw_only=True)
class Job:
    """One queued push: the branch, its new tip, and the runs it has had."""

    id: str
    ref: str
    sha: str
    old: str
    queued_at: str
    state: JobState = "pending"
    attempts: int = 0
    runner: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    group: list[int] | None = None

    @property
    def branch(self) -> str:
        """Return the branch name of the job's ref."""
        return self.ref.removeprefix("refs/heads/")


class JobQueue:
    """The queue of a local forge (``git_dir/mlops-queue``)."""

    def __init__(self, git_dir: str | os.PathLike[str], *, max_attempts: int = 3) -> None:
        self.root = Path(git_dir) / QUEUE_DIR
        self.max_attempts = max_attempts

    def folder(self, state: JobState) -> Path:
        """Return (and create) the folder of jobs in ``state``."""
        path = self.root / ("done" if state == "superseded" else state)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log_path(self, job: Job) -> Path:
        """Return the log file of ``job``."""
        path = self.root / "logs" / f"{job.id}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def enqueue(self, ref: str, sha: str, old: str, *, now: datetime | None = None) -> Job:
        """Add a job for ``ref`` at ``sha``; safe to call from concurrent hooks."""
        stamp = now or datetime.now(UTC)
        job_id = f"{stamp:%Y%m%dT%H%M%S}-{time.time_ns() % 10**12:012d}-{os.getpid()}"
        job = Job(
            id=job_id, ref=ref, sha=sha, old=old, queued_at=stamp.isoformat(timespec="seconds")
        )
        self._write(self.folder("pending") / f"{job.id}.json", job)
        log.info("queued %s @ %s as %s", job.branch, sha[:12], job.id)
        return job

    def list_jobs(self, state: JobState | None = None) -> list[Job]:
        """Return the jobs (in ``state``), oldest first."""
        states = [state] if state else list(FOLDERS)
        jobs = [self._read(p) for s in states for p in sorted(self.folder(s).glob("*.json"))]
        if state in ("superseded", "done"):
            jobs = [j for j in jobs if j.state == state]
        return sorted(jobs, key=lambda j: j.id)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the runner lock; recover jobs of a dead runner on entry.

        Raises:
            ForgeError: another runner holds the lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "runner.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ForgeError(f"{self.root}: another runner is working on this queue") from exc
            try:
                self.recover()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> list[Job]:
        """Move jobs left ``running`` by a dead runner back to pending (or to failed)."""
        moved: list[Job] = []
        for path in sorted(self.folder("running").glob("*.json")):
            job = self._read(path)
            if job.group is not None:
                end_group(ProcessGroup(*job.group))
            job = replace(job, group=None)
            if job.attempts >= self.max_attempts:
                reason = f"interrupted {job.attempts} times; giving up"
                moved.append(
                    self._move(path, replace(job, state="failed", result={"error": reason}))
                )
            else:
                moved.append(self._move(path, replace(job, state="pending", runner=None)))
            log.warning("recovered job %s (%s) left running by a dead runner", job.id, job.branch)
        return moved

    def claim(self, runner: str, *, now: datetime | None = None) -> Job | None:
        """Take the oldest pending job (older jobs of the same branch are superseded)."""
        pending = sorted(self.folder("pending").glob("*.json"))
        if not pending:
            return None
        jobs = [(p, self._read(p)) for p in pending]
        newest = {job.ref: job.id for _, job in jobs}
        for path, job in jobs:
            if newest[job.ref] != job.id:
                self._move(
                    path,
                    replace(job, state="superseded", result={"superseded_by": newest[job.ref]}),
                )
                continue
            stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
            claimed = replace(
                job, state="running", attempts=job.attempts + 1, runner=runner, started_at=stamp
            )
            target = self.folder("running") / path.name
            try:
                os.replace(path, target)
            except FileNotFoundError:
                continue  # another runner took it between listing and renaming
            self._write(target, claimed)
            return claimed
        return None

    def record_group(self, job: Job, pid: int | None) -> Job:
        """Record in the running job the process group ``pid`` leads (``None``: it ended)."""
        group = find_group(pid) if pid is not None else None
        recorded = replace(job, group=list(group) if group is not None else None)
        self._write(self.folder("running") / f"{job.id}.json", recorded)
        return recorded

    def finish(
        self, job: Job, *, ok: bool, result: dict[str, Any], now: datetime | None = None
    ) -> Job:
        """Move a running job to ``done`` or ``failed`` with its result."""
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        state: JobState = "done" if ok else "failed"
        path = self.folder("running") / f"{job.id}.json"
        finished = replace(job, state=state, finished_at=stamp, result=result, group=None)
        return self._move(path, finished)

    def _move(self, source: Path, job: Job) -> Job:
        target = self.folder(job.state) / source.name
        self._write(source, job)
        os.replace(source, target)
        return job

    def _write(self, path: Path, job: Job) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(job), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def _read(self, path: Path) -> Job:
        try:
            return Job(**json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as exc:
            raise ForgeError(f"{path}: not a queue job; move it out of the queue") from exc
