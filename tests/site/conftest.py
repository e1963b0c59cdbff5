"""Fixtures of the site tests: the history repository (``tests/helpers/history_repo.py``) built."""

from __future__ import annotations

import shutil

import pytest

from tests.site.history import History


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
