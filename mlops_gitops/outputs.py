"""Pipeline outputs: clear a stage's output paths and write its JSON files.

A stage's library function owns the files it writes (metrics, reports,
plots, model metadata). This module clears stale copies before a run
(:func:`prepare_outputs`) and writes JSON atomically with stable formatting
(:func:`write_json`), so DVC and ``dvc metrics diff`` read what they expect
and a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from mlops_gitops.errors import MlopsError


def prepare_outputs(*paths: str | os.PathLike[str]) -> list[Path]:
    """Create the parent folders of ``paths`` and remove what is already there.

    Returns the paths as :class:`Path` objects, in order.
    """
    prepared: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        prepared.append(path)
    return prepared


def write_json(path: str | os.PathLike[str], value: Mapping[str, object]) -> Path:
    """Write ``value`` as JSON to ``path`` atomically and return the path.

    The file is indented by 2 with a trailing newline, keys in insertion
    order. NaN and infinities are written as ``null`` (JSON has no such
    numbers and DVC cannot read them).

    Raises:
        MlopsError: ``value`` holds something JSON cannot represent.
    """
    target = Path(path)
    try:
        text = json.dumps(_finite(value), indent=2, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise MlopsError(f"{target}: cannot write as JSON ({exc})") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    # A plain open() keeps the usual permissions (umask), unlike mkstemp's 0600.
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(text + "\n", encoding="utf-8")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return _finite(value.item())
    return value
