"""Fixtures of the forge tests: a bare repository with branches, the GitHub emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import sh_stdout as sh

from .emulator import TOKENS, GitHubEmulator


@pytest.fixture
def hosted(tmp_path: Path) -> tuple[Path, Path]:
    """A clone (``work``) of a bare repository with ``main`` and a ``feature`` branch pushed."""
    bare, work = tmp_path / "hosted.git", tmp_path / "work"
    sh(f"git init -q --bare -b main {bare}", tmp_path)
    sh(f"git init -q -b main {work}", tmp_path)
    sh(f"git remote add origin {bare}", work)
    (work / "params.yaml").write_text("train:\n  lr: 0.1\n")
    sh("git add -A && git commit -qm init && git push -q origin main", work)
    sh("git checkout -qb feature", work)
    (work / "params.yaml").write_text("train:\n  lr: 0.2\n")
    sh("git commit -qam 'raise lr' && git push -q origin feature", work)
    return bare, work


@pytest.fixture
def emulator(hosted: tuple[Path, Path]) -> Iterator[GitHubEmulator]:
    """The GitHub emulator over ``hosted``; the test fails on any schema violation."""
    with GitHubEmulator(hosted[0], tokens=TOKENS) as emu:
        yield emu
    assert emu.schema_errors == []


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ed25519 keys of alice, bob and mallory (private key paths)."""
    folder = tmp_path_factory.mktemp("keys")
    keys = {}
    for name in ("alice", "bob", "mallory"):
        sh(f"ssh-keygen -q -t ed25519 -N '' -C {name} -f {name}", folder)
        keys[name] = folder / name
    return keys
