"""The repository with history shared by the site, audit and docs CLI tests.

Built once per session (a few seconds) and copied into each test that
changes it; read-only tests use the built copy directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.site.history import History, build_history


@pytest.fixture(scope="session")
def built_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The repository with two models, promotions, a rollback and waivers (do not modify)."""
    return build_history(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="session")
def built_site(built_history: History, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the history repository with its site built (read-only): (History, SiteBuild)."""
    from datetime import UTC, datetime

    from mlops_gitops.cli import cli
    from mlops_gitops.site import build_site

    copy = tmp_path_factory.mktemp("site") / "repo"
    shutil.copytree(built_history.path, copy, symlinks=True)
    history = History(
        copy,
        built_history.versions,
        built_history.promotions,
        built_history.rollback,
        built_history.waiver_commit,
        built_history.blocked_head,
    )
    return history, build_site(copy, now=datetime(2026, 1, 25, tzinfo=UTC), commands=cli)


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
