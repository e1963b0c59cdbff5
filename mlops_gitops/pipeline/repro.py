"""``dvc repro`` with each stage timed from DVC's own progress lines."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from mlops_gitops.errors import PipelineError
from mlops_gitops.pipeline.launch import Launcher, dvc_environ, ended, last_error, start_dvc


@dataclass(frozen=True)
class StageRun:
    """How one stage fared in a ``dvc repro``: ran, restored from the run-cache, or unchanged."""

    stage: str
    seconds: float
    status: str


_STAGE_EVENTS = (
    ("ran", re.compile(r"^Running stage '(?P<stage>[^']+)':")),
    ("cached", re.compile(r"^Stage '(?P<stage>[^']+)' is cached - skipping run")),
    ("unchanged", re.compile(r"^Stage '(?P<stage>[^']+)' didn't change, skipping")),
)


def repro_timed(
    root: str | os.PathLike[str],
    *,
    log: IO[str] | None = None,
    clock: Callable[[], float] | None = None,
    launcher: Launcher | None = None,
) -> list[StageRun]:
    """Run ``dvc repro`` in ``root``, streaming its output to ``log``; return each stage's time.

    A stage's time runs from its ``Running stage`` line to the next stage's line
    (or the end), so it includes hashing and caching its outputs. With a
    ``launcher``, DVC starts through it (the runner's sandbox).

    Raises:
        PipelineError: DVC exited non-zero; the message holds its last error line.
    """
    now = clock or time.perf_counter
    proc = start_dvc(
        ["repro"],
        root,
        launcher=launcher,
        env=dvc_environ(None, launcher),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    runs: list[StageRun] = []
    current: tuple[str, str, float] | None = None
    lines: list[str] = []
    try:
        for line in proc.stdout or ():
            lines.append(line)
            if log is not None:
                log.write(line)
            event = _stage_event(line)
            if event is not None:
                if current is not None:
                    runs.append(StageRun(current[0], now() - current[2], current[1]))
                current = (event[1], event[0], now())
        code = proc.wait()
    finally:
        ended(launcher)
    if current is not None:
        runs.append(StageRun(current[0], now() - current[2], current[1]))
    if code != 0:
        raise PipelineError(f"dvc repro failed in {root}: {last_error(''.join(lines[-50:]))}")
    return [r if r.status == "ran" else StageRun(r.stage, 0.0, r.status) for r in runs]


def _stage_event(line: str) -> tuple[str, str] | None:
    for status, pattern in _STAGE_EVENTS:
        match = pattern.match(line.strip())
        if match is not None:
            return status, match["stage"]
    return None
