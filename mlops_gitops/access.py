"""Access on the forge: who owns which paths, rendered from the project's own files.

Reads ``policies/roles.yaml`` (teams, ``approvals.environments``,
``approvals.paths``) and ``envs/environments.yaml``; writes
``.github/CODEOWNERS``. The teams that must approve a policy change, a
promotion into an environment or a change to the workflows become that
path's code owners, so GitHub itself asks them and branch protection
requires one of them; the gate still counts the approvals ``roles.yaml`` asks.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from mlops_gitops.errors import ConfigError
from mlops_gitops.forge.protection import (
    CODEOWNERS_PATH,
    Ownership,
    Protection,
    order_owners,
    render_branch_protection,
    render_codeowners,
    render_rulesets,
)
from mlops_gitops.manifests import list_environments
from mlops_gitops.manifests.conventions import manifest_path
from mlops_gitops.policies.approvals import Roles, load_roles
from mlops_gitops.roundtrip import write_atomic

ROLES_FILE = "policies/roles.yaml"
# The paths that decide what the gate does: each one always has code owners, the
# teams of its ``paths`` entry, else those the gate asks of a policy change
# (``approvals.policies``, by default the strictest environment's teams).
POLICY_PATHS = (
    ("policies/**", "the policies decide the gate"),
    ("envs/environments.yaml", "the promotion order of the environments"),
    (".github/**", "the workflows that run the gate, and this file"),
    (ROLES_FILE, "who may approve what"),
    ("policies/waivers.yaml", "exceptions to the rules"),
    ("policies/allowed_signers", "whose signatures count"),
)
_UNSUPPORTED = re.compile(r"[\[\]!\\#\s]")
_ORG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")


def list_owners(root: str | os.PathLike[str] = ".") -> list[Ownership]:
    """Return the code owners of the policy paths, the environment manifests and ``paths``.

    Raises:
        ConfigError: ``roles.yaml`` names no team for policy changes, or a glob
            CODEOWNERS cannot express.
    """
    folder = Path(root)
    roles = load_roles(folder / ROLES_FILE, ROLES_FILE)
    declared = roles.approvals.paths
    fallback = _fallback_teams(roles)
    owners: dict[str, Ownership] = {}
    for path, why in POLICY_PATHS:
        teams = _teams_for(roles, path) or fallback
        owners[path] = Ownership(_pattern(path), teams, why)
    for env in list_environments(folder).environments:
        path = manifest_path(env)
        teams = _merge(roles.approvals.environments.get(env, {}), _teams_for(roles, path))
        if teams:
            owners[path] = Ownership(_pattern(path), teams, f"promotions into {env}")
    for glob in declared:
        if glob not in owners:
            owners[glob] = Ownership(_pattern(glob), _teams_for(roles, glob), f"{ROLES_FILE} paths")
    return list(owners.values())


def render_protection(
    root: str | os.PathLike[str] = ".",
    *,
    org: str,
    branch: str = "main",
    app_id: int | None = None,
) -> Protection:
    """Return the CODEOWNERS, branch protection and tag rulesets of the project at ``root``.

    Args:
        org: the GitHub organisation whose teams are the owners (``@org/team``).
        app_id: the GitHub App that alone may create registry and approval tags.
    """
    if not _ORG.match(org):
        raise ConfigError(f"'{org}' is not a GitHub organisation name; pass --org ORG")
    owners = order_owners(list_owners(root))
    return Protection(
        org=org,
        branch=branch,
        codeowners=render_codeowners(owners, org),
        branch_protection=render_branch_protection(),
        rulesets=render_rulesets(app_id=app_id),
        owners=owners,
    )


def write_codeowners(root: str | os.PathLike[str], protection: Protection) -> bool:
    """Write ``.github/CODEOWNERS`` when its bytes differ; return whether it changed."""
    path = Path(root) / CODEOWNERS_PATH
    if path.is_file() and path.read_text(encoding="utf-8") == protection.codeowners:
        return False
    write_atomic(path, protection.codeowners)
    return True


def check_codeowners(root: str | os.PathLike[str], protection: Protection) -> None:
    """Raise unless ``.github/CODEOWNERS`` is byte for byte what the project's files render.

    Raises:
        ConfigError: the file is missing or differs (``roles.yaml`` changed since it was written).
    """
    path = Path(root) / CODEOWNERS_PATH
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current != protection.codeowners:
        state = "is missing" if current is None else f"is not what {ROLES_FILE} renders"
        raise ConfigError(
            f"{CODEOWNERS_PATH} {state}; run "
            f"'mlops forge protection --org {protection.org} --write' and commit it"
        )


def _teams_for(roles: Roles, path: str) -> tuple[str, ...]:
    """Return the teams ``approvals.paths`` asks for ``path`` (a file, or the same glob)."""
    found: dict[str, int] = {}
    for glob, teams in roles.approvals.paths.items():
        if glob == path or ("*" not in path and fnmatch.fnmatchcase(path, glob)):
            found = {**found, **teams}
    return tuple(sorted(found))


def _fallback_teams(roles: Roles) -> tuple[str, ...]:
    """Return the teams of a policy change no ``paths`` entry names, as the gate judges it."""
    teams = tuple(sorted(roles.approvals.policy_requirement()))
    if not teams:
        raise ConfigError(
            f"{ROLES_FILE} approvals: no team is declared for policy changes; "
            "add 'policies: {ml-leads: 1}' (or an environment's approvals)"
        )
    return teams


def _merge(first: dict[str, int], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({*first, *second}))


def _pattern(glob: str) -> str:
    """Return a ``roles.yaml`` glob as a CODEOWNERS pattern anchored at the root.

    ``fnmatch``'s ``*`` crosses ``/``; a segment that is only ``*`` becomes
    ``**`` so that CODEOWNERS covers at least what the gate does.
    """
    if _UNSUPPORTED.search(glob):
        raise ConfigError(
            f"{ROLES_FILE} approvals.paths '{glob}': CODEOWNERS cannot express "
            "'[', ']', '!', '\\', '#' or spaces; use '*' and '?' only"
        )
    segments = ["**" if s == "*" else s for s in glob.strip("/").split("/")]
    return "/" + "/".join(segments)
