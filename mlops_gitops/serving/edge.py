"""Edge export: a registered model version as files a device can run offline.

Writes, into one folder: ``model.onnx`` (the registered artifact, verified by
hash), ``model.int8.onnx`` (ONNX Runtime dynamic quantization, int8 weights)
and ``edge-manifest.json`` (hashes and sizes of both files, the input and
output schema, the model's task and classes, and both variants' metrics on
the version's test set (the task's metrics, as evaluation names them) with
the quantized model's delta). Reads the registration from the registry (Git tags)
and artifacts from the DVC cache or remote by content hash.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlops_gitops import pipeline
from mlops_gitops.digest import file_md5
from mlops_gitops.errors import DataError, PipelineError
from mlops_gitops.serving.model import (
    ServingError,
    VersionSession,
    describe,
    open_version_session,
)

logger = logging.getLogger(__name__)

MANIFEST_NAME = "edge-manifest.json"
EDGE_ROOT = "build/edge"


@dataclass(frozen=True)
class EdgeExport:
    """The folder an edge export wrote and what its manifest says."""

    folder: Path
    manifest: dict[str, Any]


def export_edge(
    root: str | os.PathLike[str],
    model: str,
    version: str,
    *,
    out_dir: Path | None = None,
    test_set: Path | None = None,
    label: str | None = None,
) -> EdgeExport:
    """Export ``model`` ``version`` for edge devices (see the module docstring).

    The test set defaults to the registration's ``*test.parquet`` data input,
    and the label column to the registration's ``data.label`` parameter.

    Raises:
        RegistryError: the version is not registered.
        ServingError: the artifact cannot be fetched, verified or quantized.
        DataError: the test set lacks the label or a feature column.
    """
    from mlops_gitops.registry import find_version
    from mlops_gitops.registry.versions import label_of

    root_path = Path(root).resolve()
    registered = find_version(root_path, model, version)
    if registered.artifact is None:
        raise ServingError(f"{model}@{version}: the registration records no artifact")
    md5 = registered.artifact.md5
    source = _fetch(root_path, md5, f"{model}@{version}")
    folder = out_dir or root_path / EDGE_ROOT / f"{model.replace('/', '_')}-{version}"
    test = _test_set(root_path, test_set, registered.data or {})
    column = label or label_of(registered.params or {}) or ""

    def fill(staging: Path) -> dict[str, Any]:
        manifest = _build(staging, source, (model, version, md5), registered.data or {})
        manifest["metrics"] = _evaluate(staging, (model, version), test, column)
        return manifest

    return EdgeExport(folder, _write_folder(folder, fill))


def _write_folder(folder: Path, fill: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """Fill a staging folder, add the manifest, then move it into place whole."""
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        manifest = fill(staging)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _fetch(root: Path, md5: str, what: str) -> Path:
    try:
        return pipeline.fetch_object(root, md5)
    except PipelineError as exc:
        raise ServingError(f"{what}: cannot fetch the artifact {md5}") from exc


def _build(
    folder: Path, source: Path, pinned: tuple[str, str, str], data: dict[str, str]
) -> dict[str, Any]:
    model, version, md5 = pinned
    full = folder / "model.onnx"
    shutil.copyfile(source, full)
    loaded = open_version_session(full, name=model, version=version, md5=md5)
    quantized = folder / "model.int8.onnx"
    quantize(full, quantized)
    meta = describe(loaded)
    return {
        "model": model,
        "version": version,
        "files": {
            p.name: {"md5": file_md5(p), "size": p.stat().st_size} for p in (full, quantized)
        },
        "quantization": {"method": "dynamic", "weight_type": "QInt8", "tool": "onnxruntime"},
        "task": loaded.schema.task.name,
        "classes": list(loaded.schema.classes),
        "inputs": meta["inputs"],
        "outputs": meta["outputs"],
        "data": data,
    }


def quantize(source: Path, target: Path) -> None:
    """Write a dynamically quantized (int8 weights) copy of an ONNX model."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    except Exception as exc:  # ORT's quantizer raises untyped errors: wrap them where they enter
        raise ServingError(f"{source}: dynamic quantization failed") from exc


def _test_set(root: Path, given: Path | None, data: dict[str, str]) -> Path | None:
    if given is not None:
        if not given.is_file():
            raise DataError(f"{given}: test set not found")
        return given
    tests = sorted(p for p in data if p.endswith("test.parquet"))
    if not tests:
        return None
    try:
        return pipeline.fetch_object(root, data[tests[0]])
    except PipelineError as exc:
        raise DataError(f"{tests[0]}: cannot fetch the version's test set") from exc


def _evaluate(
    folder: Path, named: tuple[str, str], test_set: Path | None, label: str
) -> dict[str, Any]:
    if test_set is None:
        return {"note": "no test set: pass --test-set to measure the quantized model's delta"}
    import pandas as pd

    frame = pd.read_parquet(test_set)
    if not label or label not in frame.columns:
        raise DataError(f"{test_set}: no label column '{label}'; pass --label")
    model, version = named
    results = {}
    for name in ("model.onnx", "model.int8.onnx"):
        path = folder / name
        loaded = open_version_session(path, name=model, version=version, md5=file_md5(path))
        results[name] = _metrics(loaded, frame, label, test_set)
    full, small = results["model.onnx"], results["model.int8.onnx"]
    delta = {k: round(small[k] - full[k], 6) for k in full if isinstance(full[k], float)}
    return {
        "test_set": {"rows": len(frame), "label": label, "md5": file_md5(test_set)},
        "fp32": full,
        "int8": small,
        "delta": delta,
    }


def _metrics(model: VersionSession, frame: Any, label: str, source: Path) -> dict[str, float]:
    """Return the task's metrics of ``model`` on ``frame`` (NaN where undefined is left out)."""
    from mlops_gitops.serving.model import Rows
    from mlops_gitops.tasks import score

    missing = [n for n in model.schema.names if n not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing feature column(s) {', '.join(missing)}")
    schema = model.schema
    task = schema.task
    truth = task.encode_labels(frame[label], origin=str(source), classes=schema.classes)
    columns = {n: frame[n].to_numpy() for n in schema.names}
    outputs = model.infer(Rows.from_columns(schema, columns))
    predicted = np.asarray(outputs[task.outputs[-1].name], dtype=np.float64)
    scores = task.decision_scores(predicted)
    found = score(task, truth.values, scores, threshold=schema.threshold)
    return {name: value for name, value in found.items() if not np.isnan(value)}
