"""The local forge's runner loop: take queued pushes one at a time and process them.

What a job does (checkout, ``dvc pull``, ``dvc repro``, ``dvc push``, report,
gate) is the ``process`` callable the ``ci`` concept passes in; this module
owns the order, the lock, the per-job log and the outcome of each job. A
job whose process raises a :class:`~mlops_gitops.errors.MlopsError` fails
with that message; a job interrupted by a crash stays ``running`` and is
retried by the next runner (see :mod:`mlops_gitops.forge.queue`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_gitops.errors import MlopsError, format_chain
from mlops_gitops.forge.queue import Job, JobQueue

log = logging.getLogger(__name__)

Process = Callable[[Job, Path], dict[str, Any]]
Wait = Callable[[], bool]


def poll_every(seconds: float) -> Wait:
    """Return a :data:`Wait` that sleeps ``seconds`` and keeps the runner polling."""
    import time

    def wait() -> bool:
        time.sleep(seconds)
        return True

    return wait


def run_queue(
    queue: JobQueue,
    process: Process,
    *,
    wait: Wait | None = None,
    runner: str | None = None,
) -> list[Job]:
    """Process pending jobs one at a time; return the finished jobs.

    Args:
        queue: the forge's queue.
        process: does the work of one job; gets the job and its log file.
        wait: called when the queue is empty; keep polling while it returns True.
            Without it the runner drains the queue once and returns.
        runner: a name for the job records (default ``host:pid``).

    Raises:
        ForgeError: another runner holds the queue's lock.
    """
    name = runner or f"{socket.gethostname()}:{os.getpid()}"
    finished: list[Job] = []
    with queue.lock():
        while True:
            job = queue.claim(name)
            if job is None:
                if wait is None or not wait():
                    break
                continue
            finished.append(run_job(queue, job, process))
    return finished


def run_job(queue: JobQueue, job: Job, process: Process) -> Job:
    """Run one claimed job with its log attached and record its outcome."""
    log_path = queue.log_path(job)
    with _job_log(log_path):
        log.info("job %s: %s @ %s (attempt %d)", job.id, job.branch, job.sha[:12], job.attempts)
        try:
            result = process(job, log_path)
        except MlopsError as exc:
            log.error("job %s failed: %s", job.id, format_chain(exc))
            return queue.finish(
                job, ok=False, result={"error": format_chain(exc), "exit_code": exc.exit_code}
            )
        log.info("job %s done", job.id)
        return queue.finish(job, ok=True, result=result)


@contextmanager
def _job_log(path: Path) -> Iterator[None]:
    """Send the toolkit's log records to the job's log file while the job runs."""
    logger = logging.getLogger("mlops_gitops")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()
