"""Read and validate environment manifests, in the work tree or at any revision.

Errors name the file, the line and the field: ``envs/prod.yaml:12
models.churn.version: ...``. A manifest at a past revision is read from Git
(``git show REV:envs/ENV.yaml``), never from a copy kept elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from mlops_gitops import scm
from mlops_gitops.documents import read_text, validate_yaml
from mlops_gitops.errors import ConfigError
from mlops_gitops.manifests.conventions import ENVIRONMENTS_FILE, ENVS_DIR, manifest_path
from mlops_gitops.manifests.fastyaml import load_fast
from mlops_gitops.manifests.schema import Environments, Manifest

M = TypeVar("M", bound=BaseModel)


class ManifestError(ConfigError):
    """An environment manifest or ``environments.yaml`` is missing or not valid."""


def parse_manifest(text: str, origin: str) -> Manifest:
    """Validate manifest text; ``origin`` names it in errors.

    Raises:
        ManifestError: not YAML, or not the schema; the message is ``origin:LINE field: reason``;
            an empty file (a truncated write or a bad merge, never a valid manifest).
    """
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        raise ManifestError(
            f"{origin}:1: the manifest is empty; write 'models: {{}}' for an environment "
            "that serves nothing"
        )
    return _validate(Manifest, text, origin)


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and validate the manifest file at ``path``."""
    return parse_manifest(_read(Path(path)), str(path))


def parse_environments(text: str, origin: str) -> Environments:
    """Validate the text of ``environments.yaml``."""
    return _validate(Environments, text, origin)


def list_environments(
    root: str | os.PathLike[str] = ".", *, rev: str | None = None
) -> Environments:
    """Return the declared environments (``envs/environments.yaml``) in promotion order.

    Args:
        root: the repository.
        rev: read the file at this revision instead of the work tree.
    """
    rel = f"{ENVS_DIR}/{ENVIRONMENTS_FILE}"
    return parse_environments(_read_at(Path(root), rel, rev), rel)


def read_environment(root: str | os.PathLike[str], env: str, *, rev: str | None = None) -> Manifest:
    """Return the validated manifest of ``env`` in the work tree, or at ``rev``.

    Raises:
        ManifestError: ``env`` is not declared, or its manifest is missing or not valid.
    """
    declared = list_environments(root, rev=rev)
    if env not in declared.environments:
        names = ", ".join(declared.order)
        raise ManifestError(
            f"unknown environment '{env}'; declared in envs/environments.yaml: {names}"
        )
    rel = manifest_path(env)
    return parse_manifest(_read_at(Path(root), rel, rev), rel)


def read_environments(
    root: str | os.PathLike[str] = ".", *, rev: str | None = None
) -> dict[str, Manifest]:
    """Return every declared environment's manifest, in promotion order.

    At a revision the manifests are read with one ``cat-file --batch``.
    """
    order = list_environments(root, rev=rev).order
    rels = [manifest_path(env) for env in order]
    if rev is None:
        texts = [_read(Path(root) / rel) for rel in rels]
    else:
        names = [f"{rev}:{r}" for r in rels]
        found = {n: blob for n, _, blob in scm.cat_file_batch(names, root, follow_symlinks=True)}
        texts = [_blob_text(found[f"{rev}:{rel}"], rel, rev) for rel in rels]
    return {
        env: parse_manifest(text, rel) for env, rel, text in zip(order, rels, texts, strict=True)
    }


def _blob_text(blob: bytes | None, rel: str, rev: str) -> str:
    if blob is None:
        raise ManifestError(f"{rel}: not found at revision {rev}")
    return blob.decode("utf-8")


def _read(path: Path) -> str:
    return read_text(path, error=ManifestError)


def _read_at(root: Path, rel: str, rev: str | None) -> str:
    if rev is None:
        return _read(root / rel)
    blob = next(scm.cat_file_batch([f"{rev}:{rel}"], root, follow_symlinks=True))[2]
    return _blob_text(blob, rel, rev)


def _validate(model: type[M], text: str, origin: str) -> M:
    return validate_yaml(model, text, origin, error=ManifestError, fast=load_fast)
