"""Where a CI command runs: the branch, commit and pull request, from GitHub Actions or git.

In a workflow the values come from the variables and the event payload
GitHub Actions provides (``GITHUB_REF_NAME``, ``GITHUB_HEAD_REF``,
``GITHUB_EVENT_PATH``, ``GITHUB_RUN_ID``); elsewhere from the checkout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.documents import read_json
from mlops_gitops.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class CiContext:
    """The change a CI command acts on."""

    branch: str
    sha: str
    pull: int | None = None
    base: str = "main"
    run_url: str | None = None
    author: str | None = None


def read_ci_context(
    root: str | os.PathLike[str], *, base: str | None = None, env: Mapping[str, str] | None = None
) -> CiContext:
    """Return the branch, commit, pull request and run link of the current CI run.

    Raises:
        ConfigError: neither the environment nor the checkout names a branch.
    """
    env = os.environ if env is None else env
    event = _event(env.get("GITHUB_EVENT_PATH"))
    pull = event.get("pull_request") or {}
    branch = (
        env.get("GITHUB_HEAD_REF")
        or (pull.get("head") or {}).get("ref")
        or env.get("GITHUB_REF_NAME")
        or scm.current_branch(root)
    )
    if not branch:
        raise ConfigError("cannot tell the branch: set GITHUB_REF_NAME or check out a branch")
    server, repository, run = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    return CiContext(
        branch=branch,
        sha=scm.rev_parse("HEAD", root),
        pull=pull.get("number") or (event.get("issue") or {}).get("number"),
        base=base or env.get("GITHUB_BASE_REF") or (pull.get("base") or {}).get("ref") or "main",
        run_url=f"{server}/{repository}/actions/runs/{run}"
        if server and repository and run
        else None,
        author=(pull.get("user") or {}).get("login"),
    )


def _event(path: str | None) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {}
    data = read_json(path)
    return data if isinstance(data, dict) else {}


def base_revision(root: str | os.PathLike[str], base: str) -> str:
    """Return the revision to compare with: ``origin/BASE`` when fetched, else ``BASE``."""
    remote = f"origin/{base}"
    if scm.git_ok("rev-parse", "--verify", "--quiet", f"{remote}^{{commit}}", cwd=root):
        return remote
    return base
