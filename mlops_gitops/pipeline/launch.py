"""How DVC processes start: this interpreter's ``dvc``, analytics off, optionally sandboxed.

A :class:`Launcher` lets a caller that runs untrusted project code (the
local forge's runner) put a sandbox in front of the command, change its
environment, and learn the process group of each process, which starts in
a session of its own so that it can be ended as a whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gitops.errors import PipelineError

DVC_ENV = {"DVC_NO_ANALYTICS": "1", "DVCLIVE_NO_ANALYTICS": "1"}
Watch = Callable[[int | None], None]


@dataclass(frozen=True)
class Launcher:
    """How to start DVC: a command prefix (a sandbox), environment changes, a group watcher.

    ``env`` values of ``None`` remove the variable. ``watch`` is told the
    process group id of each process when it starts, and ``None`` when it ended.
    """

    prefix: tuple[str, ...] = ()
    env: Mapping[str, str | None] = field(default_factory=dict)
    watch: Watch | None = None


def dvc_executable() -> list[str]:
    """Return the command that runs DVC from this interpreter's environment."""
    exe = Path(sys.executable).with_name("dvc")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dvc")
    if found is None:
        raise PipelineError("dvc is not installed; run 'make install' or 'pip install dvc'")
    return [found]


def dvc_environ(
    env: Mapping[str, str] | None = None, launcher: Launcher | None = None
) -> dict[str, str]:
    """Return the environment DVC runs with (analytics off, this interpreter first on PATH)."""
    full = {**os.environ, **DVC_ENV, "PATH": _path_with_interpreter(), **(env or {})}
    for key, value in (launcher.env if launcher else {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return full


def start_dvc(
    args: Sequence[str],
    cwd: str | os.PathLike[str],
    *,
    launcher: Launcher | None,
    env: Mapping[str, str],
    stdout: int | None,
    stderr: int | None,
) -> subprocess.Popen[str]:
    """Start ``dvc ARGS``; with a launcher, through its prefix and in a session of its own."""
    prefix = launcher.prefix if launcher else ()
    proc = subprocess.Popen(
        [*prefix, *dvc_executable(), *args],
        cwd=cwd,
        env=dict(env),
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=launcher is not None,
    )
    if launcher is not None and launcher.watch is not None:
        launcher.watch(proc.pid)
    return proc


def ended(launcher: Launcher | None) -> None:
    """Tell the launcher's watcher that its process has ended."""
    if launcher is not None and launcher.watch is not None:
        launcher.watch(None)


def _path_with_interpreter() -> str:
    """Return PATH with this interpreter's folder first, so stages run `python` from it."""
    folder = str(Path(sys.executable).parent)
    rest = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != folder]
    return os.pathsep.join([folder, *rest])


def last_error(stderr: str | None) -> str:
    """Return DVC's last ``ERROR`` line (or its last line) of ``stderr``."""
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    picked = errors[-1] if errors else (lines[-1] if lines else "see the output above")
    return picked.removeprefix("ERROR:").strip()
