"""The repository template: ``git init`` and ``dvc init`` run once per session, then copied.

As dvc's own test fixtures do, one initialised repository is built per
session (per xdist worker) and copied into each test, which costs a copy of
a few files instead of a ``dvc init`` (about a second) per test. The
template holds three repositories:

* ``git``: ``git init -b main`` with the suite's identity in ``.git/config``;
* ``dvc``: ``git`` plus ``dvc init`` (staged, not committed);
* ``dvc-with-remote``: ``dvc`` plus a default remote ``local`` at
  ``../dvc-remote`` (stored relative to ``.dvc/``, so every copy points at the
  ``dvc-remote`` folder beside it).

Copies share nothing: ``.dvc/tmp`` (locks, the updater's state) is removed
from the template, ``.dvc/cache`` does not exist yet, and DVC's site cache is
keyed by the repository's path, which differs per copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers.commands import git, run

NAME, EMAIL = "Ada Analyst", "ada@example.com"  # the identity isolated_env pins


def build_repo_template(dest: Path) -> Path:
    """Build the three template repositories under ``dest`` and return ``dest``."""
    scm = dest / "git"
    scm.mkdir(parents=True)
    git(scm, "init", "-q", "-b", "main")
    git(scm, "config", "user.name", NAME)
    git(scm, "config", "user.email", EMAIL)
    dvc = dest / "dvc"
    shutil.copytree(scm, dvc, symlinks=True)
    run(["dvc", "init", "-q"], dvc)
    with_remote = dest / "dvc-with-remote"
    shutil.copytree(dvc, with_remote, symlinks=True)
    run(["dvc", "remote", "add", "-q", "-d", "local", "../dvc-remote"], with_remote)
    for repo in (dvc, with_remote):
        shutil.rmtree(repo / ".dvc" / "tmp", ignore_errors=True)
    return dest


def copy_repo(template: Path, dest: Path, kind: str = "dvc") -> Path:
    """Copy the template repository ``kind`` (``git``, ``dvc``, ``dvc-with-remote``) to ``dest``."""
    shutil.copytree(template / kind, dest, symlinks=True)
    return dest


def add_dvc(template: Path, repo: Path, kind: str = "dvc") -> None:
    """Make the git repository ``repo`` a DVC repository, as ``dvc init`` would (unstaged)."""
    shutil.copytree(template / kind / ".dvc", repo / ".dvc", symlinks=True)
    shutil.copyfile(template / kind / ".dvcignore", repo / ".dvcignore")
