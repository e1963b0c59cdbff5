"""Process groups a runner starts: recorded by id and start time, ended as a whole.

The runner starts each pipeline process in a session of its own and records
its :class:`ProcessGroup` in the running job. After a crash of the runner
(``kill -9``) the group lives on; the next runner ends it (TERM, then KILL
after a grace period) and waits until no member is left before it retries
the job. Membership and start times are read from ``/proc`` (Linux).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

PROC = Path("/proc")
GRACE_SECONDS = 5.0


class ProcessGroup(NamedTuple):
    """A process group: its id and its leader's start time (clock ticks since boot)."""

    pgid: int
    started: int


def find_group(pid: int) -> ProcessGroup | None:
    """Return the group that ``pid`` leads (None when the process is gone)."""
    stat = _stat(pid)
    return None if stat is None else ProcessGroup(pid, stat[2])


def list_members(group: ProcessGroup) -> list[int]:
    """Return the live (not zombie) processes of ``group``; empty when it is gone or reused."""
    leader = _stat(group.pgid)
    if leader is not None and leader[2] != group.started:
        return []  # the id now belongs to another process: not ours to end
    members = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == group.pgid and stat[0] != "Z":
                members.append(int(entry.name))
    return members


def end_group(group: ProcessGroup, *, grace: float = GRACE_SECONDS) -> bool:
    """End every process of ``group`` (TERM, then KILL after ``grace`` s); return if any lived.

    Returns once no member is left, so that a retry never meets an orphan.
    """
    if not list_members(group):
        return False
    log.warning("ending process group %d left by a dead runner", group.pgid)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30.0)):
        _signal(group.pgid, sig)
        deadline = time.monotonic() + wait
        while list_members(group):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        else:
            return True
    return True


def _signal(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # every member exited since the check
        os.killpg(pgid, sig)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """Return (state, process group, start time) of ``pid`` from ``/proc/PID/stat``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), int(fields[19])
