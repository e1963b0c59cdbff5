"""Register a model version: an annotated tag with the lineage in its message.

The model name is an entry of ``artifacts:`` in ``dvc.yaml`` (several
entries, several models). The artifact's hash comes from ``dvc.lock`` at the
registered commit, the data hashes from the stages upstream of it, the
params from ``dvc.lock`` and the metrics from the files ``dvc.yaml``
declares. Nothing is written unless every check passes. A version whose
``model.task`` differs from the model's latest registration is registered
with a warning: promotion refuses to let it replace a version of another
task (:func:`mlops_gitops.registry.versions.check_same_task`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from mlops_gitops import pipeline, scm
from mlops_gitops.documents import parse_json
from mlops_gitops.errors import ConfigError, PipelineError, ScmError
from mlops_gitops.registry.versions import (
    METADATA_SCHEMA,
    ModelVersion,
    RegistryError,
    VersionTag,
    bump_version,
    check_version,
    closest,
    format_message,
    read_tags,
    semver_key,
    tag_name,
    task_of,
)

log = logging.getLogger(__name__)

Bump = Literal["major", "minor", "patch"]
CODE_SUFFIXES = (".py", ".ipynb", ".sh", ".r", ".R")


def register(
    root: str | os.PathLike[str],
    model: str,
    *,
    version: str | None = None,
    bump: Bump | None = None,
    rev: str = "HEAD",
    check_remote: bool = True,
    sign_key: str | os.PathLike[str] | None = None,
) -> ModelVersion:
    """Register ``model`` at ``rev`` as ``version`` (or the next ``bump`` of the latest).

    With ``sign_key`` (an SSH private key) the tag is signed and its metadata
    records the artifact's SHA-256 (:mod:`mlops_gitops.registry.signing`).

    Raises:
        RegistryError: a dirty work tree, an artifact missing from ``dvc.lock``
            or from the DVC remote, an existing or non-SemVer version, or a key
            that cannot sign.
    """
    if scm.is_dirty(root):
        raise RegistryError("the work tree has uncommitted changes; commit them before registering")
    commit = scm.rev_parse(rev, root)
    tags = [t for t in read_tags(root) if t.model == model]
    chosen = _choose_version(model, version, bump, tags)
    metadata = registration_metadata(root, model, commit)
    if check_remote:
        _check_in_remote(root, model, metadata["artifact"])
    _warn_task_change(model, chosen, metadata["params"], tags)
    if sign_key is not None:
        metadata["artifact"]["sha256"] = _artifact_sha256(root, model, metadata["artifact"])
    name = tag_name(model, chosen)
    message = format_message(f"Register {model} {chosen}", {**metadata, "version": chosen})
    try:
        scm.create_tag(root, name, commit, message, key=sign_key)
    except ScmError as exc:
        raise RegistryError(str(exc)) from exc
    log.info("registered %s at %s", name, commit[:8])
    from mlops_gitops.registry.state import find_version

    return find_version(root, model, chosen)


def _choose_version(
    model: str, version: str | None, bump: Bump | None, tags: list[VersionTag]
) -> str:
    if (version is None) == (bump is None):
        raise RegistryError("give exactly one of --version vX.Y.Z or --bump major|minor|patch")
    registered = {t.version: t for t in tags if t.mark == "register"}
    if version is None:
        latest = max(registered, key=semver_key, default=None)
        version = bump_version(latest, bump or "patch")
    check_version(version)
    if version in registered:
        existing = registered[version]
        raise RegistryError(
            f"{model} {version} is already registered (tag {existing.name} on "
            f"{existing.commit[:8]}); choose another version or use --bump"
        )
    return version


def _warn_task_change(
    model: str, version: str, params: dict[str, Any], tags: list[VersionTag]
) -> None:
    """Warn when the task differs from the latest registration (promotion over it is refused)."""
    archived = {t.version for t in tags if t.mark == "archive"}
    live = [t for t in tags if t.mark == "register" and t.version not in archived]
    if not live:
        return
    previous = max(live, key=lambda t: semver_key(t.version))
    before, after = task_of((previous.metadata or {}).get("params") or {}), task_of(params)
    if before != after:
        log.warning(
            "%s %s is a %s model but %s, its latest registration, is a %s one; it will not be "
            "promoted over a version of another task: register it under a new model name",
            *(model, version, after, previous.version, before),
        )


def registration_metadata(root: str | os.PathLike[str], model: str, commit: str) -> dict[str, Any]:
    """Return the metadata of registering ``model`` at ``commit`` (read from Git)."""
    dvc_yaml = _file_at(root, commit, "dvc.yaml")
    artifacts = pipeline.parse_artifacts(dvc_yaml)
    if model not in artifacts:
        raise RegistryError(
            f"dvc.yaml: no artifact '{model}' under 'artifacts:'; closest: "
            f"{closest(model, list(artifacts))}; declare it there (name: {{path, type: model}})"
        )
    path = artifacts[model]
    stages = pipeline.parse_lock_stages(_file_at(root, commit, "dvc.lock"))
    producer = next((s for s in stages.values() if path in s.outs), None)
    if producer is None:
        raise RegistryError(
            f"dvc.lock at {commit[:8]}: no output '{path}' (artifact {model}); "
            "run 'dvc repro' and commit dvc.lock"
        )
    out = producer.outs[path]
    upstream = _upstream(stages, producer.name)
    deps = {p: md5 for s in upstream for p, md5 in stages[s].deps.items() if p != path}
    return {
        "schema": METADATA_SCHEMA,
        "model": model,
        "commit": commit,
        "artifact": {"path": path, "md5": out.md5, "size": out.size, "stage": producer.name},
        "data": {p: m for p, m in sorted(deps.items()) if not p.endswith(CODE_SUFFIXES)},
        "code": {p: m for p, m in sorted(deps.items()) if p.endswith(CODE_SUFFIXES)},
        "params": _params(stages, upstream),
        "metrics": _metrics(root, commit, dvc_yaml),
    }


def _upstream(stages: dict[str, pipeline.LockedStage], start: str) -> list[str]:
    producers = {p: s.name for s in stages.values() for p in s.outs}
    seen: set[str] = set()
    queue = [start]
    while queue:
        name = queue.pop()
        seen.add(name)
        queue.extend(producers[d] for d in stages[name].deps if producers.get(d, name) not in seen)
    return sorted(seen)


def _params(stages: dict[str, pipeline.LockedStage], names: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        for file, values in stages[name].params.items():
            merged.setdefault(file, {}).update(values)
    return merged


def _metrics(root: str | os.PathLike[str], commit: str, dvc_yaml: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for path in pipeline.parse_metric_paths(dvc_yaml):
        text = scm.show_file(commit, path, root)
        if text is None:
            continue
        try:
            metrics[path] = parse_json(text, f"{commit[:8]}:{path}")
        except ConfigError as exc:
            log.warning("%s; left out of the registration", exc)
    return metrics


def _file_at(root: str | os.PathLike[str], commit: str, path: str) -> str:
    text = scm.show_file(commit, path, root)
    if text is None:
        raise RegistryError(
            f"{path}: not committed at {commit[:8]}; run 'dvc repro' and commit {path} first"
        )
    return text


def _check_in_remote(root: str | os.PathLike[str], model: str, artifact: dict[str, Any]) -> None:
    md5 = str(artifact["md5"])
    status = pipeline.check_remote_objects(Path(root), [md5])[md5]
    if status != "ok":
        raise RegistryError(
            f"{artifact['path']} (artifact {model}, md5 {md5}) is {status} in the DVC remote; "
            "run 'dvc push' first"
        )


def _artifact_sha256(root: str | os.PathLike[str], model: str, artifact: dict[str, Any]) -> str:
    """Return the SHA-256 of the artifact's bytes (from the DVC cache or remote), to sign."""
    from mlops_gitops.digest import file_md5, file_sha256

    md5 = str(artifact["md5"])
    where = f"{artifact['path']} (artifact {model}, md5 {md5})"
    if md5.endswith(".dir"):
        raise RegistryError(f"{where} is a directory; only a single-file artifact can be signed")
    try:
        path = pipeline.fetch_object(Path(root), md5)
    except PipelineError as exc:
        raise RegistryError(f"{where}: cannot read its bytes to sign them") from exc
    if file_md5(path) != md5:
        raise RegistryError(f"{where}: the cached object does not hash to its md5; run 'dvc pull'")
    return file_sha256(path)
