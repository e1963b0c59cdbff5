"""The site reads the repository in a fixed number of git calls, whatever the history."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from mlops_gitops import registry
from mlops_gitops.site import read_site_data
from tests.site.history import History, dated

NOW = datetime(2026, 1, 25, tzinfo=UTC)


def _count_git_calls(monkeypatch, path) -> int:
    calls: list[str] = []
    real = subprocess.run

    def counting(args, *rest, **kwargs):  # counts the git processes; runs them for real
        if args and args[0] == "git":
            calls.append(args[1])
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    read_site_data(path, now=NOW)
    monkeypatch.setattr(subprocess, "run", real)
    return len(calls)


def test_git_calls_do_not_grow_with_the_number_of_versions(history_repo: History, monkeypatch):
    before = _count_git_calls(monkeypatch, history_repo.path)
    commit = history_repo.versions["churn@v0.2.0"]
    with dated("2026-01-24T09:00:00+00:00"):
        for version in ("v0.3.0", "v0.4.0", "v0.5.0", "v0.6.0"):
            registry.register(
                history_repo.path, "churn", version=version, rev=commit, check_remote=False
            )
    after = _count_git_calls(monkeypatch, history_repo.path)
    assert after == before
    assert before < 40
