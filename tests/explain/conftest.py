"""Models of both families, trained and exported by the training package, for the explain tests.

A 600-row sample of the built-in credit data is split 70/15/15 as the
prepare stage does (PII dropped; ``sex`` and ``age_band`` kept); the model
uses every feature but ``sex`` (fairness only), so ``age_band`` is an input
that counterfactuals must never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from mlops_gitops.data.sample import PII_COLUMNS, generate_sample

LABEL = "default"
ID_COLUMN = "customer_id"
SENSITIVE = ("sex", "age_band")


@dataclass(frozen=True)
class TinyModel:
    """A trained and exported model with the splits it came from."""

    onnx: Path
    trained: Path
    train: pd.DataFrame
    test: pd.DataFrame
    folder: Path


def write_split(folder: Path, *, rows: int = 600, seed: int = 7) -> tuple[Path, Path, Path]:
    """Write data/prepared/{train,valid,test}.parquet under ``folder``."""
    prepared = folder / "data" / "prepared"
    prepared.mkdir(parents=True, exist_ok=True)
    frame = generate_sample(rows=rows, seed=seed).drop(columns=list(PII_COLUMNS))
    cut1, cut2 = int(rows * 0.7), int(rows * 0.85)
    paths = tuple(prepared / f"{name}.parquet" for name in ("train", "valid", "test"))
    for path, part in zip(
        paths, (frame.iloc[:cut1], frame.iloc[cut1:cut2], frame.iloc[cut2:]), strict=True
    ):
        part.reset_index(drop=True).to_parquet(path, index=False)
    return paths  # type: ignore[return-value]  # three paths


def model_settings(family: str) -> dict[str, object]:
    """A ``model`` params section that trains in about a second."""
    return {
        "name": "credit-default",
        "family": family,
        "seed": 3,
        "features": {"exclude": ["sex"]},
        "sklearn": {"max_iter": 40, "early_stopping": False},
        "lightning": {"hidden": [16], "max_epochs": 3, "batch_size": 64, "accelerator": "cpu"},
    }


def build(folder: Path, family: str) -> TinyModel:
    """Train and export a model of ``family`` in the project layout under ``folder``."""
    from mlops_gitops.training import export_model, train_model

    train, valid, test = write_split(folder)
    trained = folder / "models" / "trained"
    train_model(
        train=train,
        valid=valid,
        trained=trained,
        settings=model_settings(family),
        label=LABEL,
        id_column=ID_COLUMN,
        live_dir=folder / "dvclive",
    )
    onnx = folder / "models" / "model.onnx"
    export_model(
        trained=trained,
        test=test,
        model=onnx,
        metrics=folder / "metrics" / "export.json",
        settings={"opset": 17},
    )
    return TinyModel(onnx, trained, pd.read_parquet(train), pd.read_parquet(test), folder)


@pytest.fixture(scope="session")
def tree_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """A scikit-learn histogram gradient-boosting model (explained exactly by TreeExplainer)."""
    return build(tmp_path_factory.mktemp("sklearn"), "sklearn")


@pytest.fixture(scope="session")
def network_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """A Lightning tabular network (explained through its ONNX graph only)."""
    return build(tmp_path_factory.mktemp("lightning"), "lightning")


def build_task_model(folder: Path, dataset: str, task: str) -> TinyModel:
    """Prepare, train and export an sklearn model of ``task`` on a scikit-learn data set.

    ``load_wine`` (class names, not codes) is the multiclass case and
    ``load_diabetes`` the regression one. A ``group`` column (high or low
    alcohol / body-mass index) is kept out of the features: the sensitive
    attribute of the fairness checks.
    """
    import numpy as np
    from sklearn import datasets

    from mlops_gitops.data import prepare_dataset
    from mlops_gitops.training import export_model, train_model

    loaded = getattr(datasets, f"load_{dataset}")(as_frame=True)
    frame = loaded.frame.rename(columns=lambda c: str(c).replace("/", "_"))
    if dataset == "wine":
        frame["target"] = np.asarray(loaded.target_names)[frame["target"].to_numpy()]
    marker = frame["alcohol" if dataset == "wine" else "bmi"]
    frame["group"] = np.where(marker > marker.median(), "high", "low")
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    raw = folder / "raw.parquet"
    frame.to_parquet(raw, index=False)
    paths = prepare_dataset(
        raw=raw, prepared_dir=folder / "data" / "prepared",
        data={"label": "target", "id_column": "row_id"}, prepare={"split": {"seed": 5}}, task=task,
    ).paths  # fmt: skip
    trained = folder / "models" / "trained"
    train_model(
        train=paths["train"], valid=paths["valid"], trained=trained, live_dir=folder / "dvclive",
        settings={"name": dataset, "family": "sklearn", "task": task,
                  "features": {"exclude": ["group"]}, "sklearn": {"max_iter": 20}},
        label="target", id_column="row_id",
    )  # fmt: skip
    onnx = folder / "models" / "model.onnx"
    export_model(
        trained=trained, test=paths["test"], model=onnx, metrics=folder / "metrics" / "export.json",
        settings={"opset": 18, "tolerance": 1e-4},
    )  # fmt: skip
    return TinyModel(
        onnx, trained, pd.read_parquet(paths["train"]), pd.read_parquet(paths["test"]), folder
    )


@pytest.fixture(scope="session")
def wine_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """A multiclass histogram gradient-boosting model of the three wine cultivars."""
    return build_task_model(tmp_path_factory.mktemp("wine"), "wine", "multiclass")


@pytest.fixture(scope="session")
def diabetes_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """A regression histogram gradient-boosting model of disease progression."""
    return build_task_model(tmp_path_factory.mktemp("diabetes"), "diabetes", "regression")
