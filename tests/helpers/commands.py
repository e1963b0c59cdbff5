"""Run git, DVC and shell command lines in a test, failing the test with their output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest


def run(cmd: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run a command in ``cwd``, failing the test with its output when it fails."""
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in ``repo`` and return its stdout; fail the test with its stderr on error."""
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def sh(cmd: str, cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a shell command line; fail the test with its output when ``check`` and it fails."""
    proc = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def sh_stdout(cmd: str, cwd: Path) -> str:
    """Run a shell command line and return its stdout; fail the test when it fails."""
    return sh(cmd, cwd).stdout


def gen_tree(root: Path, tree: Mapping[str, str | bytes], commit: str | None = None) -> None:
    """Write ``tree`` (path -> content) under ``root``; commit it when ``commit`` is a message."""
    for rel, content in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if commit is not None:
        run(["git", "add", "-A"], root)
        run(["git", "commit", "-q", "-m", commit], root)


def mlops_process(
    root: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``mlops`` process (this tree's code) in ``root``; never raise on failure."""
    return subprocess.run(
        [sys.executable, "-m", "mlops_gitops", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
