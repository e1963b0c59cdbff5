"""The only module that drives DVC.

It reads ``dvc.yaml`` and ``dvc.lock`` directly (they are YAML: reading
them never needs DVC's import time) and runs DVC commands (``repro``,
``push``, ``pull``, ``metrics``) as processes with analytics switched off.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops import documents
from mlops_gitops.digest import stream_md5
from mlops_gitops.errors import PipelineError
from mlops_gitops.pipeline.declared import declared_outputs, is_declared_output, parse_dvc_yaml
from mlops_gitops.pipeline.launch import (
    DVC_ENV,
    Launcher,
    Watch,
    dvc_environ,
    dvc_executable,
    ended,
    last_error,
    start_dvc,
)
from mlops_gitops.pipeline.repro import StageRun, repro_timed

__all__ = [
    "DVC_ENV",
    "Launcher",
    "LockedOut",
    "LockedStage",
    "StageRun",
    "Watch",
    "cache_object_path",
    "check_remote_objects",
    "declared_outputs",
    "dvc",
    "dvc_executable",
    "fetch_object",
    "is_declared_output",
    "parse_artifacts",
    "parse_lock",
    "parse_lock_stages",
    "parse_metric_paths",
    "push",
    "read_json",
    "read_lock",
    "repro",
    "repro_timed",
]


@dataclass(frozen=True, kw_only=True)
class LockedOut:
    """One output recorded in ``dvc.lock``: its path, content hash and stage."""

    path: str
    md5: str
    stage: str
    size: int | None = None
    nfiles: int | None = None


def dvc(
    *args: str,
    cwd: str | os.PathLike[str] = ".",
    capture: bool = True,
    env: Mapping[str, str] | None = None,
    launcher: Launcher | None = None,
) -> str:
    """Run ``dvc ARGS`` in ``cwd`` and return its stdout.

    With ``capture=False`` the output streams to the terminal (progress of
    long commands such as ``repro``); with a ``launcher``, DVC starts through it.

    Raises:
        PipelineError: DVC exited non-zero; the message holds its last error line.
    """
    pipe = subprocess.PIPE if capture else None
    proc = start_dvc(
        args, cwd, launcher=launcher, env=dvc_environ(env, launcher), stdout=pipe, stderr=pipe
    )
    try:
        out, err = proc.communicate()
    finally:
        ended(launcher)
    if proc.returncode != 0:
        raise PipelineError(f"dvc {' '.join(args)} failed in {cwd}: {last_error(err)}")
    return out or ""


def parse_lock(text: str, origin: str = "dvc.lock") -> dict[str, LockedOut]:
    """Parse the text of a ``dvc.lock`` into its outputs, keyed by path.

    Parsed with libyaml (see :func:`_fast_yaml`): only paths, hashes and
    sizes are read.
    """
    data = _fast_yaml(text, origin)
    outs: dict[str, LockedOut] = {}
    for stage, body in (data.get("stages") or {}).items():
        for out in (body or {}).get("outs") or []:
            md5 = out.get("md5") or out.get("hash") or ""
            outs[out["path"]] = LockedOut(
                path=out["path"],
                md5=md5,
                stage=stage,
                size=out.get("size"),
                nfiles=out.get("nfiles"),
            )
    return outs


def read_lock(root: str | os.PathLike[str] = ".") -> dict[str, LockedOut]:
    """Return the outputs recorded in ``ROOT/dvc.lock``."""
    path = Path(root) / "dvc.lock"
    if not path.exists():
        raise PipelineError(f"{path}: not found; run 'dvc repro' first")
    return parse_lock(path.read_text(encoding="utf-8"), str(path))


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON metrics or report file, naming it on error."""
    missing = "not found; run 'dvc repro' first"
    value = documents.read_json(path, error=PipelineError, missing=missing)
    if not isinstance(value, dict):
        raise PipelineError(f"{path}: expected a JSON object")
    return value


def repro(
    root: str | os.PathLike[str] = ".", *, targets: Sequence[str] = (), stream: bool = True
) -> str:
    """Run ``dvc repro`` in ``root`` (streaming its progress when ``stream``)."""
    return dvc("repro", *targets, cwd=root, capture=not stream)


def push(
    root: str | os.PathLike[str] = ".", *, run_cache: bool = True, launcher: Launcher | None = None
) -> str:
    """Push the cache (and the run-cache) to the default DVC remote."""
    args = ["push", "--run-cache"] if run_cache else ["push"]
    return dvc(*args, cwd=root, launcher=launcher)


def cache_object_path(root: str | os.PathLike[str], md5: str) -> Path:
    """Return where DVC's default local cache keeps the file with content hash ``md5``."""
    return Path(root) / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def fetch_object(root: str | os.PathLike[str], md5: str) -> Path:
    """Return a local path holding the file whose DVC content hash is ``md5``.

    Looks in the default cache first (no DVC import); otherwise asks DVC for
    its configured cache and pulls the object from the default remote. The
    caller verifies the bytes.

    Raises:
        PipelineError: the hash is malformed, or no cache nor remote has the object.
    """
    if len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5):
        raise PipelineError(f"'{md5}' is not an md5 content hash; expected 32 hex digits")
    cached = cache_object_path(root, md5)
    if cached.is_file():
        return cached
    return _pull_object(Path(root), md5)


def _pull_object(root: Path, md5: str) -> Path:
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo

    try:
        with Repo(str(root)) as repo:
            path = Path(repo.cache.local.oid_to_path(md5))
            if not path.is_file():
                # checked first: DVC drops a corrupt object it fetches, leaving it "missing"
                odb = repo.cloud.get_remote_odb(None, "mlops fetch")
                if _object_status(odb, md5) == "corrupt":
                    raise PipelineError(
                        f"object {md5} is in the default remote of {root} but corrupt (its "
                        "bytes do not hash to it); run 'dvc push' again where it was built"
                    )
                repo.cloud.pull([HashInfo("md5", md5)])
    except DvcException as exc:
        raise PipelineError(f"cannot pull object {md5} into {root}: {exc}") from exc
    if not path.is_file():
        raise PipelineError(
            f"object {md5} is in neither the DVC cache of {root} nor its default remote; "
            "run 'dvc push' where the model was built"
        )
    return path


@dataclass(frozen=True)
class LockedStage:
    """One stage of ``dvc.lock``: the hashes of its deps and outs and its params."""

    name: str
    deps: dict[str, str]
    outs: dict[str, LockedOut]
    params: dict[str, dict[str, Any]]


def parse_lock_stages(text: str, origin: str = "dvc.lock") -> dict[str, LockedStage]:
    """Parse the text of a ``dvc.lock`` into its stages (deps, outs, params)."""
    data = _safe_yaml(text, origin)
    stages: dict[str, LockedStage] = {}
    for name, raw in (data.get("stages") or {}).items():
        body = raw or {}
        outs = parse_lock(_dump_stage(name, body), origin)
        deps = {d["path"]: d.get("md5") or "" for d in body.get("deps") or []}
        params = {str(f): dict(v or {}) for f, v in (body.get("params") or {}).items()}
        stages[name] = LockedStage(name=name, deps=deps, outs=outs, params=params)
    return stages


def _dump_stage(name: str, body: dict[str, Any]) -> str:
    return json.dumps({"stages": {name: {"outs": body.get("outs") or []}}})


def _safe_yaml(text: str, origin: str) -> dict[str, Any]:
    return _top_mapping(documents.parse_yaml(text, origin, error=PipelineError), origin)


def _fast_yaml(text: str, origin: str) -> dict[str, Any]:
    """Parse YAML with libyaml, for reads of names, paths and hashes.

    A real project's ``dvc.lock`` takes ~10 ms instead of ~100 ms with the
    pure-Python parser, which the policy gate (under 1 s) cannot afford.
    libyaml reads YAML 1.1, so values such as ``on`` or ``no`` would become
    booleans: params keep :func:`_safe_yaml`.
    """
    return _top_mapping(parse_dvc_yaml(text, origin), origin)


def _top_mapping(data: Any, origin: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PipelineError(f"{origin}: expected a mapping at the top level")
    return data


def parse_artifacts(text: str, origin: str = "dvc.yaml") -> dict[str, str]:
    """Return the ``artifacts:`` section of a ``dvc.yaml``: artifact name -> path."""
    artifacts = _fast_yaml(text, origin).get("artifacts") or {}
    return {str(name): str((body or {}).get("path", "")) for name, body in artifacts.items()}


def parse_metric_paths(text: str, origin: str = "dvc.yaml") -> list[str]:
    """Return the metrics files that the stages of a ``dvc.yaml`` declare."""
    paths: list[str] = []
    for body in (_fast_yaml(text, origin).get("stages") or {}).values():
        for entry in (body or {}).get("metrics") or []:
            paths.extend(entry if isinstance(entry, dict) else [entry])
    return sorted(set(paths))


def check_remote_objects(
    root: str | os.PathLike[str], md5s: Sequence[str], *, remote: str | None = None
) -> dict[str, str]:
    """Check objects in a DVC remote: md5 -> ``ok``, ``missing`` or ``corrupt``.

    Each present file is read back and hashed, so a tampered object is
    ``corrupt``; a directory (``.dir``) is ``ok`` when its listing and every
    file in it are. Works for every remote type DVC supports.

    Raises:
        PipelineError: no remote is configured or DVC cannot reach it.
    """
    from dvc.exceptions import DvcException

    try:
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            odb = repo.cloud.get_remote_odb(remote, "mlops verify")
            return {md5: _object_status(odb, md5) for md5 in md5s}
    except DvcException as exc:
        raise PipelineError(f"cannot read the DVC remote of {root}: {exc}") from exc


def _object_status(odb: Any, md5: str) -> str:
    path = odb.oid_to_path(md5)
    if not odb.fs.exists(path):
        return "missing"
    with odb.fs.open(path, mode="rb") as handle:
        found = stream_md5(handle)
    if not md5.endswith(".dir"):
        return "ok" if found == md5 else "corrupt"
    with odb.fs.open(path, mode="rb") as handle:
        entries = json.loads(handle.read())
    states = {_object_status(odb, str(e["md5"])) for e in entries}
    return "ok" if states <= {"ok"} else "corrupt" if "corrupt" in states else "missing"
