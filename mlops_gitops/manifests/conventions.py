"""Where the manifests live and the shapes of the names in them.

Kept apart from the schema so that reading paths, tags and history never
imports the validation machinery (pydantic): a registry read starts its git
processes first and validates while they run.
"""

from __future__ import annotations

import os
import posixpath
import re

from mlops_gitops import scm

ENVS_DIR = "envs"
ENVIRONMENTS_FILE = "environments.yaml"

MODEL_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?"
SEMVER = (
    r"v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
MD5 = r"[0-9a-f]{32}(?:\.dir)?"
ENV_NAME = r"[a-z][a-z0-9-]*"
DURATION = r"(?:\d+[wdhms])+"
QUANTITY = r"\d+(?:\.\d+)?(?:m|k|Ki|Mi|Gi|Ti|M|G|T)?"
MODEL_NAME_RE = re.compile(f"^{MODEL_NAME}$")
SEMVER_RE = re.compile(f"^{SEMVER}$")


def manifest_path(env: str) -> str:
    """Return the repository-relative path of the manifest of ``env``."""
    return f"{ENVS_DIR}/{env}.yaml"


def envs_dir(root: str | os.PathLike[str], rev: str) -> str:
    """Return where the manifests live in the tree of ``rev``.

    That is ``envs``, or the target of ``envs`` when it is a symbolic link
    (as in a repository whose convention files link into a package).
    """
    _, kind, content = next(scm.cat_file_batch([f"{rev}:{ENVS_DIR}"], root))
    if kind == "blob" and content:  # a symbolic link: its blob is the target path
        return posixpath.normpath(content.decode().strip())
    return ENVS_DIR
