"""Read and validate environment manifests, in the work tree or at any revision.

Errors name the file, the line and the field: ``envs/prod.yaml:12
models.churn.version: ...``. A manifest at a past revision is read from Git
(``git show REV:envs/ENV.yaml``), never from a copy kept elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mlops_gitops import scm
from mlops_gitops.errors import ConfigError
from mlops_gitops.manifests.conventions import ENVIRONMENTS_FILE, ENVS_DIR, manifest_path
from mlops_gitops.manifests.fastyaml import FastYamlError, load_fast
from mlops_gitops.manifests.schema import Environments, Manifest
from mlops_gitops.roundtrip import parse_roundtrip

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
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError(f"{path}: file not found") from exc


def _read_at(root: Path, rel: str, rev: str | None) -> str:
    if rev is None:
        return _read(root / rel)
    blob = next(scm.cat_file_batch([f"{rev}:{rel}"], root, follow_symlinks=True))[2]
    return _blob_text(blob, rel, rev)


def _validate(model: type[M], text: str, origin: str) -> M:
    try:  # the fast reader first; any doubt goes to the round-trip parser below
        return model.model_validate(_empty_as_mapping(load_fast(text)))
    except (FastYamlError, ValidationError):
        pass
    data = parse_roundtrip(text, origin, error=ManifestError)
    try:
        return model.model_validate(_empty_as_mapping(data))
    except ValidationError as exc:
        raise ManifestError(describe_error(exc, data, origin)) from exc


def _empty_as_mapping(data: Any) -> Any:
    return {} if data is None else data


def describe_error(exc: ValidationError, data: Any, origin: str) -> str:
    """Turn the first pydantic error into ``origin:LINE field: reason``."""
    error = exc.errors(include_url=False)[0]
    loc = [str(p) for p in error["loc"]]
    line, path = locate(data, loc)
    field = ".".join(path) or "(top level)"
    reason = str(error["msg"])
    reason = reason.removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        reason = "unknown field; remove it or check its spelling"
    elif error["type"] == "missing":
        reason = "required field is missing"
    return f"{origin}:{line} {field}: {reason[:1].lower()}{reason[1:]}"


def locate(data: Any, loc: list[str]) -> tuple[int, list[str]]:
    """Return the 1-based line of the node at ``loc`` and the part of ``loc`` that exists.

    Parts of a pydantic location that are not keys of the document (the
    tag of a discriminated union) are skipped.
    """
    line = 1
    node = data
    path: list[str] = []
    for part in loc:
        found = _child(node, part)
        if found is None:
            if isinstance(node, dict) and part not in {"direct", "canary", "ab", "[key]"}:
                path.append(part)
            continue
        node, line = found
        path.append(part)
    return line, path


def _child(node: Any, part: str) -> tuple[Any, int] | None:
    if isinstance(node, dict) and part in node:
        lc = getattr(node, "lc", None)
        line = lc.key(part)[0] + 1 if lc is not None else 1
        return node[part], line
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        lc = getattr(node, "lc", None)
        line = lc.item(int(part))[0] + 1 if lc is not None else 1
        return node[int(part)], line
    return None
