"""Deploy on merge: which environments a push to the main branch changed."""

from __future__ import annotations

import fnmatch
import os

from mlops_gitops import scm
from mlops_gitops.forge.base import ZERO_SHA

MANIFESTS = "envs/*.yaml"
NOT_AN_ENVIRONMENT = ("envs/environments.yaml",)


def changed_environments(
    root: str | os.PathLike[str], before: str, after: str = "HEAD"
) -> list[str]:
    """Return the environments whose manifest differs between ``before`` and ``after``, sorted.

    A ``before`` of all zeros (a new branch) compares with the empty tree.
    """
    if before == ZERO_SHA or not before:
        before = scm.git("hash-object", "-t", "tree", os.devnull, cwd=root).strip()
    changed = scm.git("diff", "--name-only", before, after, "--", "envs", cwd=root).splitlines()
    return sorted(
        path.removeprefix("envs/").removesuffix(".yaml")
        for path in changed
        if fnmatch.fnmatch(path, MANIFESTS) and path not in NOT_AN_ENVIRONMENT
    )
