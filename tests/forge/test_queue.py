"""The local forge's queue and runner loop: order, supersession, crashes, logs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mlops_gitops.errors import PipelineError
from mlops_gitops.forge import ForgeError
from mlops_gitops.forge.queue import Job, JobQueue
from mlops_gitops.forge.runner import run_queue

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
A, B = "a" * 40, "b" * 40


def _ok(job: Job, log: Path) -> dict[str, Any]:
    return {"sha": job.sha}


def test_jobs_run_oldest_first_and_older_pushes_of_a_branch_are_superseded(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    queue.enqueue("refs/heads/x", A, "0" * 40, now=NOW)
    queue.enqueue("refs/heads/y", A, "0" * 40, now=NOW)
    queue.enqueue("refs/heads/x", B, A, now=NOW)

    done = run_queue(queue, _ok)

    assert [(j.branch, j.sha, j.state) for j in done] == [("y", A, "done"), ("x", B, "done")]
    [superseded] = queue.list_jobs("superseded")
    assert (superseded.sha, superseded.result["superseded_by"]) == (A, done[1].id)


def test_a_failing_job_is_recorded_with_its_error_and_log(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    queue.enqueue("refs/heads/x", A, "0" * 40, now=NOW)

    def fail(job: Job, log: Path) -> dict[str, Any]:
        raise PipelineError("dvc repro failed in work: stage 'train' exploded")

    [job] = run_queue(queue, fail)

    assert job.state == "failed"
    assert job.result == {
        "error": "dvc repro failed in work: stage 'train' exploded",
        "exit_code": 1,
    }
    assert "stage 'train' exploded" in queue.log_path(job).read_text()


def test_a_job_left_running_by_a_crashed_runner_is_retried(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    queue.enqueue("refs/heads/x", A, "0" * 40, now=NOW)
    script = textwrap.dedent(
        f"""
        import os
        from mlops_gitops.forge.queue import JobQueue
        from mlops_gitops.forge.runner import run_queue
        def crash(job, log):
            os._exit(9)  # the runner dies in the middle of the job
        run_queue(JobQueue({str(tmp_path)!r}), crash)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == 9
    assert [j.state for j in queue.list_jobs()] == ["running"]

    [job] = run_queue(queue, _ok)

    assert (job.state, job.attempts, job.sha) == ("done", 2, A)


def test_a_job_interrupted_too_often_fails_instead_of_looping(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path, max_attempts=1)
    queue.enqueue("refs/heads/x", A, "0" * 40, now=NOW)
    queue.claim("dead-runner")

    assert run_queue(queue, _ok) == []
    [job] = queue.list_jobs("failed")
    assert job.result == {"error": "interrupted 1 times; giving up"}


def test_a_second_runner_on_the_same_queue_is_refused(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    with queue.lock(), pytest.raises(ForgeError, match="another runner is working on this queue"):
        run_queue(queue, _ok)


def test_wait_keeps_the_runner_polling_until_it_says_stop(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path)
    polls = iter([True, False])

    def wait() -> bool:
        if next(polls):
            queue.enqueue("refs/heads/late", A, "0" * 40, now=NOW)
            return True
        return False

    assert [j.branch for j in run_queue(queue, _ok, wait=wait)] == ["late"]
