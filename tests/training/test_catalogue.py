"""Every declared family x estimator x task trains, exports to ONNX and matches its graph.

The pairs come from the catalogue table and
the families themselves, so a new row is tested without touching this file.
The data ship with scikit-learn (breast cancer, wine, diabetes, iris
without its label for clustering, breast cancer with malignant rows cut to
a few as anomalies), plus one categorical column and missing values in a
numeric column, so the preprocessing inside the graph is exercised.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.data import prepare_dataset
from mlops_gitops.training import export_model, load_trained_model, train_model
from mlops_gitops.training.catalogue import CATALOGUE
from mlops_gitops.training.estimator import EstimatorParams
from mlops_gitops.training.families import BUILTIN_FAMILIES, family_tasks, load_family
from tests.helpers.packaged_data import DATASETS, LABEL, LABELS, packaged_frame

# Small enough to train in a moment; only the keys a row declares are passed.
SMALL = {"n_estimators": 8, "max_iter": 30, "max_epochs": 2, "n_clusters": 3}
# Extra settings worth their own run: the other solvers and models a key switches to.
VARIANTS = {
    "logistic_regression": [{"l1_ratio": 0.5}],
    "linear_regression": [{"alpha": 0.0}, {"alpha": 0.1, "l1_ratio": 0.5}],
}


def _declared() -> list[tuple[str, str | None, str, dict[str, object]]]:
    pairs: list[tuple[str, str | None, str, dict[str, object]]] = []
    for name, row in CATALOGUE.items():
        small = {k: v for k, v in SMALL.items() if k in row.params.model_fields}
        for task in row.tasks:
            pairs.append(("sklearn", name, task, {"estimator": name, **small}))
            pairs.extend(
                ("sklearn", name, task, {"estimator": name, **small, **extra})
                for extra in VARIANTS.get(name, [])
            )
    for family in BUILTIN_FAMILIES:
        if family != "sklearn":
            pairs.extend(
                (family, None, task, {"max_epochs": 2})
                for task in family_tasks(load_family(family))
            )
    return pairs


PAIRS = _declared()


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """The prepared split of each task's data set (read-only)."""
    splits = {}
    for task in DATASETS:
        folder = tmp_path_factory.mktemp(f"catalogue-{task}")
        packaged_frame(task).to_parquet(folder / "raw.parquet", index=False)
        splits[task] = prepare_dataset(
            raw=folder / "raw.parquet",
            prepared_dir=folder / "prepared",
            data={"label": LABELS[task], "id_column": "row_id"},
            prepare={"split": {"seed": 5}},
            task=task,
        ).paths
    return splits


def _tolerance(task: str, paths: dict[str, Path]) -> float:
    # Probabilities are checked to 1e-4; values to 1e-6 of the label's spread
    # (float32 in the graph, float64 in scikit-learn).
    if task != "regression":
        return 1e-4
    return 1e-6 * float(pd.read_parquet(paths["train"])[LABEL].abs().max())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "estimator", "task", "settings"),
    PAIRS,
    ids=[f"{f}-{e or f}-{t}-{i}" for i, (f, e, t, _) in enumerate(PAIRS)],
)
def test_every_declared_pair_exports_an_equivalent_graph(
    prepared, tmp_path, family, estimator, task, settings
):
    if task not in DATASETS:
        pytest.fail(f"no data set declared for task {task}; add one to DATASETS")
    paths = prepared[task]
    meta = train_model(
        train=paths["train"],
        valid=paths["valid"],
        trained=tmp_path / "trained",
        live_dir=tmp_path / "dvclive",
        settings={"name": "m", "family": family, "task": task, family: settings},
        label=LABELS[task],
        id_column="row_id",
    )
    assert meta is not None and meta.task == task
    assert {"band", "mean_radius", "alcohol", "age", "sepal_length_cm"} & set(meta.feature_names())
    tolerance = _tolerance(task, paths)
    check = export_model(
        trained=tmp_path / "trained",
        test=paths["test"],
        model=tmp_path / "model.onnx",
        metrics=tmp_path / "export.json",
        settings={"opset": 18, "tolerance": tolerance},
    )
    assert check.max_abs_diff <= tolerance
    if task == "regression":
        assert check.label_agreement is None
    else:
        assert check.label_agreement == 1.0
    test = pd.read_parquet(paths["test"])
    assert test["band"].isna().any() and test.drop(columns="band").isna().any().any()
    predicted = load_trained_model(tmp_path / "trained").predict(test)
    assert np.isfinite(predicted).all() and len(predicted) == len(test)
    if family == "sklearn" and estimator in CATALOGUE:
        _check_summary(tmp_path / "dvclive", meta.task, estimator)
    if family == "lightning":  # the curves carry the task's metrics on the valid split
        summary = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
        assert np.isfinite(summary["valid"][_headline(task)])


def _headline(task: str) -> str:
    from mlops_gitops.tasks import load_task

    return load_task(task).headline


def test_the_pairs_cover_lightning_for_every_supervised_task():
    lightning = {task for family, _, task, _ in PAIRS if family == "lightning"}
    assert lightning == {"binary", "multiclass", "regression"}


def _check_summary(live: Path, task: str, estimator: str | None) -> None:
    from mlops_gitops.tasks import load_task

    summary = json.loads((live / "metrics.json").read_text())
    headline = load_task(task).headline
    assert np.isfinite(summary["valid"][headline])
    if task in ("clustering", "anomaly"):  # fitted without the label: validation scores only
        assert "train" not in summary and ("inertia" in summary) == (estimator == "kmeans")
        return
    assert list((live / "plots" / "metrics").rglob("*.tsv"))  # the train stage's plots output
    if CATALOGUE[str(estimator)].params.curves is EstimatorParams.curves:
        assert np.isfinite(summary["train"][headline])  # no per-iteration curves: final scores
    else:
        assert summary["iterations"] >= 1


def test_every_estimator_declares_tasks_the_task_table_knows():
    from mlops_gitops.tasks import list_tasks

    for name, row in CATALOGUE.items():
        assert row.tasks and set(row.tasks) <= set(list_tasks()), name
        assert row.params.model_fields["estimator"].default == name
