"""evaluate_model: the metrics file and plots of a trained model on a test set."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlops_gitops.errors import ConfigError
from mlops_gitops.evaluation import EvaluationError, evaluate_model
from mlops_gitops.training import load_trained_model, train_model


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.normal(size=rows)
    score[rng.random(rows) < 0.1] = np.nan
    band = rng.choice(np.array(["18-25", "26-40", "41-65", None], dtype=object), rows)
    risk = np.nan_to_num(score) + 0.5 * (band == "18-25")
    return pd.DataFrame(
        {
            "customer_id": [f"C{seed}{i:05d}" for i in range(rows)],
            "score": score,
            "age_band": band,
            "sex": rng.choice(["F", "M"], rows),
            "default": (rng.random(rows) < 1 / (1 + np.exp(-2 * risk))).astype(np.int64),
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small sklearn model and its test set."""
    folder = tmp_path_factory.mktemp("eval")
    for name, seed in (("train", 1), ("valid", 2), ("test", 3)):
        _frame(300 if name == "train" else 120, seed).to_parquet(folder / f"{name}.parquet")
    train_model(
        train=folder / "train.parquet",
        valid=folder / "valid.parquet",
        trained=folder / "trained",
        settings={
            "name": "m",
            "family": "sklearn",
            "features": {"exclude": ["sex"]},
            "sklearn": {"max_iter": 10},
        },
        label="default",
        id_column="customer_id",
        live_dir=folder / "dvclive",
    )
    return folder


def _evaluate(folder, out, **settings):
    return evaluate_model(
        trained=folder / "trained",
        test=folder / "test.parquet",
        metrics=out / "metrics" / "evaluate.json",
        plots_dir=out / "plots",
        settings={"threshold": 0.5, "slices": ["sex", "age_band"], **settings},
        label="default",
    )


@pytest.mark.slow
def test_evaluate_writes_flat_metrics_slices_and_four_plots(trained, tmp_path):
    result = _evaluate(trained, tmp_path)
    written = json.loads((tmp_path / "metrics" / "evaluate.json").read_text())
    for name in ("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss"):
        assert isinstance(written[name], float), name
    assert written["rows"] == 120 and written["threshold"] == 0.5
    assert set(written["slices"]["sex"]) == {"F", "M"}
    assert "(missing)" in written["slices"]["age_band"]
    test = pd.read_parquet(trained / "test.parquet")
    proba = load_trained_model(trained / "trained").predict_proba(test)[:, 1]
    assert written["roc_auc"] == pytest.approx(skm.roc_auc_score(test["default"], proba))
    names = sorted(p.name for p in result.plots)
    assert names == ["calibration.json", "confusion.json", "precision_recall.json", "roc.json"]
    assert len(json.loads((tmp_path / "plots" / "confusion.json").read_text())) == 120


@pytest.mark.slow
def test_missing_slice_column_names_the_param(trained, tmp_path):
    with pytest.raises(
        EvaluationError, match=r"params.yaml evaluate.slices: column 'branch' is not in"
    ):
        _evaluate(trained, tmp_path, slices=["branch"])
    assert not (tmp_path / "metrics").exists()


def test_threshold_outside_zero_one_is_a_config_error(tmp_path):
    with pytest.raises(
        ConfigError, match=r"params.yaml evaluate.threshold: input should be less than 1"
    ):
        _evaluate(tmp_path, tmp_path, threshold=1.5)
