"""Fixtures: the repository with history shared by the site, audit and docs CLI tests.

Built once per session (a few seconds) and copied into each test that
changes it; read-only tests use the built copy directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.site.history import History, build_history


@pytest.fixture(scope="session")
def built_history(tmp_path_factory: pytest.TempPathFactory, repo_template: Path) -> History:
    """The repository with two models, promotions, a rollback and waivers (do not modify)."""
    return build_history(tmp_path_factory.mktemp("history"), repo_template)


@pytest.fixture
def history_repo(
    built_history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> History:
    """A private copy of the history repository, as the current folder."""
    copy = tmp_path / "repo"
    shutil.copytree(built_history.path, copy, symlinks=True)
    monkeypatch.chdir(copy)
    return History(
        copy,
        built_history.versions,
        built_history.promotions,
        built_history.rollback,
        built_history.waiver_commit,
        built_history.blocked_head,
    )
