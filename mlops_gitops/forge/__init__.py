"""Forges: where PR reports, gate decisions and approvals live.

Two backends implement :class:`Forge`: ``github`` (github.com and GitHub
Enterprise Server, through github3.py) and ``local`` (a bare repository
with server-side hooks, git notes and SSH-signed approval tags; the
embedded default and the on-premises option). More backends plug in
through the ``mlops_gitops.forges`` entry-point group.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from mlops_gitops import scm
from mlops_gitops.forge.base import (
    GATE_CONTEXT,
    Approval,
    ChangeRef,
    Forge,
    ForgeError,
    GateStatus,
    Publication,
    Report,
)
from mlops_gitops.plugins import PluginPoint


@runtime_checkable
class ForgeFactory(Protocol):
    """Opens a forge for the repository at ``root`` from environment variables."""

    def __call__(self, root: Path, env: Mapping[str, str], /) -> Forge:
        """Return the forge."""
        ...


# name -> "module:attribute" of a factory ``(root, env) -> Forge``
FORGES: dict[str, str] = {
    "local": "mlops_gitops.forge:local_from_env",
    "github": "mlops_gitops.forge:github_from_env",
}
BACKENDS: PluginPoint[ForgeFactory] = PluginPoint(
    group="mlops_gitops.forges",
    what="forge",
    protocol=ForgeFactory,
    builtins=FORGES,
    error=ForgeError,
)


def open_forge(
    name: str | None = None,
    *,
    root: str | os.PathLike[str] = ".",
    env: Mapping[str, str] | None = None,
) -> Forge:
    """Return the forge ``name`` (default: ``MLOPS_FORGE``, else github in Actions, else local).

    Raises:
        ForgeError: the name is unknown, its plug-in cannot be loaded, or the forge is
            not configured.
    """
    env = os.environ if env is None else env
    chosen = (
        name
        or env.get("MLOPS_FORGE")
        or ("github" if env.get("GITHUB_ACTIONS") == "true" else "local")
    )
    return BACKENDS.load(chosen)(Path(root), env)


def local_from_env(root: Path, env: Mapping[str, str]) -> Forge:
    """Open the local forge at ``MLOPS_FORGE_PATH``, else at the path of ``origin``."""
    from mlops_gitops.forge.local import LocalForge

    path = env.get("MLOPS_FORGE_PATH") or str(find_local_remote(root))
    return LocalForge(path)


def github_from_env(root: Path, env: Mapping[str, str]) -> Forge:
    """Open the GitHub forge from ``GITHUB_REPOSITORY``, ``GITHUB_TOKEN``, ``GITHUB_API_URL``."""
    from mlops_gitops.forge.github import GitHubForge

    return GitHubForge.from_env(env, clone=root)


def find_local_remote(root: str | os.PathLike[str], remote: str = "origin") -> Path:
    """Return the folder of ``remote`` when it is a repository on this machine.

    Raises:
        ForgeError: the remote is missing or not a local path.
    """
    code, out, _ = scm.git_status("remote", "get-url", remote, cwd=root)
    url = out.strip()
    if code != 0 or not url:
        raise ForgeError(
            f"{Path(root).resolve()}: no remote '{remote}'; set MLOPS_FORGE_PATH or add the remote"
        )
    parts = urlsplit(url)
    scp_like = parts.scheme == "" and ":" in url.split("/", 1)[0]
    if parts.scheme not in ("", "file") or scp_like:
        raise ForgeError(
            f"remote '{remote}' ({url}) is not a local forge; "
            "set MLOPS_FORGE_PATH or MLOPS_FORGE=github"
        )
    path = Path(parts.path if parts.scheme == "file" else url)
    return path if path.is_absolute() else (Path(root) / path).resolve()


__all__ = [
    "FORGES",
    "GATE_CONTEXT",
    "Approval",
    "ChangeRef",
    "Forge",
    "ForgeError",
    "GateStatus",
    "Publication",
    "Report",
    "find_local_remote",
    "open_forge",
]
