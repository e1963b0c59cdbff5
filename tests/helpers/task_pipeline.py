"""Run prepare -> train -> export -> evaluate of one task on a raw frame, as the stages would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mlops_gitops.data import prepare_dataset
from mlops_gitops.evaluation import evaluate_model
from mlops_gitops.training import export_model, train_model

ID_COLUMN = "row_id"


def run_pipeline(
    raw: pd.DataFrame,
    task: str,
    folder: Path,
    *,
    label: str | None,
    sklearn: Mapping[str, object] | None = None,
    lightning: Mapping[str, object] | None = None,
    slices: Sequence[str] = (),
    name: str | None = None,
    tolerance: float = 1e-4,
):
    """Run the four stages' functions on ``raw`` (with a ``row_id`` column) under ``folder``.

    The model is the sklearn family's with ``sklearn`` settings, or the lightning
    family's when ``lightning`` settings are given.
    """
    raw.to_parquet(folder / "raw.parquet", index=False)
    prepared = prepare_dataset(
        raw=folder / "raw.parquet",
        prepared_dir=folder / "prepared",
        data={"label": label, "id_column": ID_COLUMN},
        prepare={"split": {"seed": 5}},
        task=task,
    )
    paths = prepared.paths
    family, chosen = ("lightning", lightning) if lightning is not None else ("sklearn", sklearn)
    settings = {"name": name or task, "family": family, "task": task, family: dict(chosen or {})}
    meta = train_model(
        train=paths["train"],
        valid=paths["valid"],
        trained=folder / "trained",
        live_dir=folder / "dvclive",
        settings=settings,
        label=label,
        id_column=ID_COLUMN,
    )
    check = export_model(
        trained=folder / "trained",
        test=paths["test"],
        model=folder / "model.onnx",
        metrics=folder / "export.json",
        settings={"opset": 18, "tolerance": tolerance},
    )
    evaluation = evaluate_model(
        trained=folder / "trained",
        test=paths["test"],
        metrics=folder / "evaluate.json",
        plots_dir=folder / "plots",
        settings={"slices": list(slices)},
        label=label,
    )
    return prepared, meta, check, evaluation
