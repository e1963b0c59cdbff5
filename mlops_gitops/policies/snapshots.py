"""Metrics, params and data hashes of the candidate and of the base branch.

Read from files, never by running DVC: the metrics files that ``dvc.yaml``
declares, ``params.yaml`` and ``dvc.lock`` in the work tree (the candidate,
as ``dvc metrics diff`` reads it) and the same files at the base commit
with one ``git cat-file --batch``. Also the data-validation report, the
ONNX equivalence figure and which datasets changed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gitops import pipeline, scm
from mlops_gitops.documents import parse_json, parse_yaml_document
from mlops_gitops.policies.bundle import Dataset, Onnx, Snapshot, Validation
from mlops_gitops.policies.source import PolicyError

DVC_YAML = "dvc.yaml"
DVC_LOCK = "dvc.lock"
PARAMS = "params.yaml"
VALIDATION_REPORT = "reports/validation.json"
ONNX_METRIC = "onnx_max_abs_diff"
ONNX_TOLERANCE = ("export", "tolerance")
DATA_PREFIX = "data/"


@dataclass(frozen=True)
class Pipeline:
    """What ``dvc.yaml`` declares that the gate reads: metrics files and the model artifact."""

    text: str
    metrics: tuple[str, ...]
    artifacts: dict[str, str]

    def line_of(self, path: str) -> int:
        """Return the line of ``dvc.yaml`` that declares ``path`` (1 when not found)."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if path in line:
                return number
        return 1


def read_pipeline(root: Path) -> Pipeline:
    """Read ``dvc.yaml``.

    Raises:
        PolicyError: the project has no ``dvc.yaml``.
    """
    try:
        text = (root / DVC_YAML).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(
            f"{DVC_YAML}: not found in {root}; the gate reads the pipeline's metrics"
        ) from exc
    metrics = tuple(pipeline.parse_metric_paths(text, DVC_YAML))
    return Pipeline(text=text, metrics=metrics, artifacts=pipeline.parse_artifacts(text, DVC_YAML))


def pick_model(pipe: Pipeline, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return the candidate's model name and artifact path (``params model.name`` first)."""
    named = params.get("model", {}).get("name") if isinstance(params.get("model"), dict) else None
    if named in pipe.artifacts:
        return str(named), pipe.artifacts[str(named)]
    if pipe.artifacts:
        name = next(iter(pipe.artifacts))
        return name, pipe.artifacts[name]
    return (str(named) if named else None), None


def read_workspace(root: Path, pipe: Pipeline) -> tuple[Snapshot, dict[str, pipeline.LockedOut]]:
    """Return the candidate as the work tree holds it, and the work tree's ``dvc.lock`` outputs.

    Raises:
        PolicyError: a declared metrics file is missing or not valid (names ``dvc.yaml:LINE``).
    """
    docs: list[tuple[str, Any]] = []
    for path in pipe.metrics:
        file = root / path
        if not file.exists():
            raise PolicyError(
                f"{DVC_YAML}:{pipe.line_of(path)} metrics file {path} not found; "
                "run 'dvc repro' (or 'dvc pull') before the gate"
            )
        docs.append((path, parse_data(file.read_text(encoding="utf-8"), path)))
    params = (
        parse_params((root / PARAMS).read_text(encoding="utf-8"), PARAMS)
        if (root / PARAMS).exists()
        else {}
    )
    lock_file = root / DVC_LOCK
    lock = (
        pipeline.parse_lock(lock_file.read_text(encoding="utf-8"), DVC_LOCK)
        if lock_file.exists()
        else {}
    )
    model, artifact = pick_model(pipe, params)
    snapshot = Snapshot(
        model=model,
        source="workspace",
        metrics=flatten_metrics(docs),
        params=params,
        artifact_md5=lock[artifact].md5 if artifact in lock else None,
    )
    return snapshot, lock


def read_base(
    root: Path, rev: str, pipe: Pipeline
) -> tuple[Snapshot, dict[str, pipeline.LockedOut]]:
    """Return the base snapshot (same files, at ``rev``) and its ``dvc.lock`` outputs."""
    names = [f"{rev}:{p}" for p in (*pipe.metrics, PARAMS, DVC_LOCK)]
    texts = {
        name.split(":", 1)[1]: data.decode()
        for name, _, data in scm.cat_file_batch(names, root)
        if data is not None
    }
    short = rev[:8]
    docs = [(p, parse_data(texts[p], f"{short}:{p}")) for p in pipe.metrics if p in texts]
    params = parse_params(texts[PARAMS], f"{short}:{PARAMS}") if PARAMS in texts else {}
    lock = pipeline.parse_lock(texts[DVC_LOCK], f"{short}:{DVC_LOCK}") if DVC_LOCK in texts else {}
    model, artifact = pick_model(pipe, params)
    snapshot = Snapshot(
        model=model,
        source="git",
        commit=rev,
        metrics=flatten_metrics(docs),
        params=params,
        artifact_md5=lock[artifact].md5 if artifact in lock else None,
    )
    return snapshot, lock


def parse_data(text: str, origin: str) -> Any:
    """Parse a metrics file: JSON, YAML or TOML by its suffix."""
    if origin.endswith(".json"):
        return parse_json(text, origin, error=PolicyError)
    if not origin.endswith(".toml"):
        return parse_yaml_document(text, origin, error=PolicyError).data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{origin}: not valid ({' '.join(str(exc).split())})") from exc


def parse_params(text: str, origin: str) -> dict[str, Any]:
    """Parse ``params.yaml`` text into a JSON tree (dates and other YAML types as text)."""
    data = parse_data(text, origin) or {}
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: expected a mapping of params at the top level")
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain


def flatten_metrics(docs: list[tuple[str, Any]]) -> dict[str, float]:
    """Return the numeric leaves of the metrics files, nested keys joined with '.'.

    Booleans are not metrics. When two files hold the same key, the file
    declared later in ``dvc.yaml`` order (sorted paths) wins.
    """
    out: dict[str, float] = {}
    for _, data in docs:
        out.update(dict(_leaves(data, "")))
    return out


def _leaves(data: Any, prefix: str) -> Iterator[tuple[str, float]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, (int, float)) and not isinstance(data, bool) and prefix:
        yield prefix, float(data)


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return params as dotted keys to leaf values (lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            out.update(flatten_params(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def changed_params(candidate: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """Return the dotted keys whose value differs between two params trees."""
    left, right = flatten_params(candidate), flatten_params(other)
    return sorted(k for k in set(left) | set(right) if left.get(k) != right.get(k))


def deltas(candidate: Mapping[str, float], other: Mapping[str, float]) -> dict[str, float]:
    """Return candidate minus other for every metric both have."""
    return {k: candidate[k] - other[k] for k in candidate if k in other}


def read_validation(root: Path) -> Validation | None:
    """Return the data-validation report, or None when the work tree has none."""
    path = root / VALIDATION_REPORT
    if not path.exists():
        return None
    report = parse_data(path.read_text(encoding="utf-8"), VALIDATION_REPORT)
    if not isinstance(report, dict) or not isinstance(report.get("passed"), bool):
        raise PolicyError(f"{VALIDATION_REPORT}: expected an object with a boolean 'passed'")
    return Validation(passed=report["passed"], path=VALIDATION_REPORT, report=report)


def onnx_evidence(metrics: Mapping[str, float], params: Mapping[str, Any]) -> Onnx | None:
    """Return the ONNX equivalence figure (metric ``onnx_max_abs_diff``), or None."""
    if ONNX_METRIC not in metrics:
        return None
    section = params.get(ONNX_TOLERANCE[0])
    tolerance = section.get(ONNX_TOLERANCE[1]) if isinstance(section, dict) else None
    if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool):
        tolerance = None
    return Onnx(max_abs_diff=metrics[ONNX_METRIC], tolerance=tolerance)


def dataset_evidence(
    now: Mapping[str, pipeline.LockedOut], base: Mapping[str, pipeline.LockedOut]
) -> tuple[dict[str, Dataset], list[str]]:
    """Return the data outputs of ``dvc.lock`` with their base hashes, and the changed ones."""
    datasets = {
        path: Dataset(
            md5=out.md5,
            base_md5=base[path].md5 if path in base else None,
            changed=path not in base or base[path].md5 != out.md5,
        )
        for path, out in sorted(now.items())
        if path.startswith(DATA_PREFIX)
    }
    return datasets, [p for p, d in datasets.items() if d.changed]
