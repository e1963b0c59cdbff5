"""Explain one prediction of a registered model version (``mlops explain``).

The version is resolved through the registry: its ONNX artifact and its
training split are taken by content hash from the DVC cache (or pulled from
the remote) and checked against the hashes of the registration, so the
explanation is of exactly the registered model. ``--model-path`` explains a
local ONNX file instead, against ``data/prepared/train.parquet`` of the
working tree. The ``explain`` section of the working tree's params gives the
template, immutables and search settings; ``schema.columns`` the value ranges.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlops_gitops.digest import file_md5
from mlops_gitops.documents import read_json
from mlops_gitops.explain.explained_model import ExplainError
from mlops_gitops.explain.prediction import (
    PredictionExplanation,
    explain_prediction,
    parse_row,
    with_default_range,
)
from mlops_gitops.explain.settings import ExplainSettings, parse_settings
from mlops_gitops.tasks import DEFAULT_THRESHOLD

TRAIN_SPLIT = "data/prepared/train.parquet"


@dataclass(frozen=True)
class ResolvedModel:
    """Where the explained model and its reference data are, and what they are."""

    onnx: Path
    reference: Path


def explain_row(
    root: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    *,
    model: str,
    version: str | None = None,
    model_path: str | os.PathLike[str] | None = None,
    method: str = "shap",
    threshold: float | None = None,
    with_counterfactual: bool = False,
) -> PredictionExplanation:
    """Explain the decision of ``model`` (``version``, or the file ``model_path``) on one row.

    Args:
        root: the project (its registry, DVC cache and params).
        input_path: a JSON object with one value per model feature (null when missing).

    Raises:
        ExplainError: the row, the model or its data cannot be used.
        RegistryError: the version is not registered.
        ConfigError: the ``explain`` params are invalid or ``method`` is unknown.
    """
    import pandas as pd

    from mlops_gitops.explain.explained_model import load_tabular_model

    project = Path(root)
    params = _read_params(project)
    settings = parse_settings(params.get("explain"))
    resolved = resolve_model(project, model, version=version, model_path=model_path)
    reference = pd.read_parquet(resolved.reference)
    schema = params.get("schema") or {}
    loaded = load_tabular_model(resolved.onnx, reference, rules=schema.get("columns") or {})
    row = parse_row(loaded, _read_row(Path(input_path)), origin=str(input_path))
    background = reference.sample(
        n=min(len(reference), settings.shap.background_rows), random_state=settings.seed
    )
    if with_counterfactual:
        settings = with_default_range(settings, loaded, reference)
    return explain_prediction(
        loaded,
        row,
        background=background,
        settings=_with_template_dir(settings, project),
        method=method,
        threshold=threshold
        if threshold is not None
        else loaded.decision_threshold(_threshold(params)),
        with_counterfactual=with_counterfactual,
    )


def resolve_model(
    root: Path, model: str, *, version: str | None, model_path: str | os.PathLike[str] | None
) -> ResolvedModel:
    """Return the ONNX file and training split of a registered version or a local model.

    Raises:
        ExplainError: neither or both of ``version`` and ``model_path`` are given,
            or a file does not match its registered hash.
    """
    if (version is None) == (model_path is None):
        raise ExplainError("give exactly one of --version (a registered version) and --model-path")
    if model_path is not None:
        reference = root / TRAIN_SPLIT
        if not reference.is_file():
            raise ExplainError(
                f"{reference}: not found; run 'dvc pull' or 'dvc repro prepare' first"
            )
        return ResolvedModel(Path(model_path), reference)
    from mlops_gitops.pipeline import fetch_object
    from mlops_gitops.registry import find_version
    from mlops_gitops.scm import find_root

    root = find_root(root)
    registration = find_version(root, model, str(version))
    origin = f"{model}@{version}"
    if registration.artifact is None:
        raise ExplainError(f"{origin}: the registration records no artifact; register it again")
    onnx = _checked(
        fetch_object(root, registration.artifact.md5), registration.artifact.md5, origin
    )
    path, md5 = _train_split(registration.data or {}, origin)
    return ResolvedModel(onnx, _checked(fetch_object(root, md5), md5, f"{origin} {path}"))


def _train_split(data: dict[str, str], origin: str) -> tuple[str, str]:
    for path, md5 in sorted(data.items()):
        pure = PurePosixPath(path)
        if pure.stem == "train" and pure.suffix == ".parquet":
            return path, md5
    known = ", ".join(sorted(data)) or "none"
    raise ExplainError(f"{origin}: the registration records no training split (data: {known})")


def _checked(path: Path, md5: str, origin: str) -> Path:
    if file_md5(path) != md5:
        raise ExplainError(
            f"{origin}: {path} does not match its registered hash {md5}; run 'dvc pull'"
        )
    return path


def _read_row(path: Path) -> dict[str, object]:
    value = read_json(path, error=ExplainError, missing="not found")
    if not isinstance(value, dict):
        raise ExplainError(
            f"{path}: expected a JSON object of feature values, got {type(value).__name__}"
        )
    return value


def _read_params(root: Path) -> dict[str, Any]:
    from mlops_gitops.params import PARAMS_FILE, load_params

    return load_params(root) if (root / PARAMS_FILE).is_file() else {}


def _threshold(params: dict[str, Any]) -> object:
    evaluate = params.get("evaluate") or {}
    return evaluate.get("threshold", DEFAULT_THRESHOLD) if isinstance(evaluate, dict) else None


def _with_template_dir(settings: ExplainSettings, root: Path) -> ExplainSettings:
    if settings.template_dir is None or Path(settings.template_dir).is_absolute():
        return settings
    return settings.model_copy(update={"template_dir": str(root / settings.template_dir)})
