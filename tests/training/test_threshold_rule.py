"""The binary decision rule: evaluate.threshold auto is chosen on validation and recorded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer

from mlops_gitops.contract import open_session, read_contract
from mlops_gitops.errors import ConfigError
from mlops_gitops.evaluation import evaluate_model
from mlops_gitops.tasks.thresholds import DecisionSection, choose_threshold
from mlops_gitops.training import load_trained_model, read_meta, train_model
from mlops_gitops.training.onnx_export import export_model

COSTS = {"false_positive": 1.0, "false_negative": 5.0}


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """breast_cancer (scikit-learn's copy) split in train, valid and test parquet files."""
    folder = tmp_path_factory.mktemp("cancer")
    data = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    parts = {"train": data[:300], "valid": data[300:440], "test": data[440:]}
    for name, part in parts.items():
        part.to_parquet(folder / f"{name}.parquet")
    return folder


def _train(folder, out, decision):
    train_model(
        train=folder / "train.parquet",
        valid=folder / "valid.parquet",
        trained=out / "trained",
        live_dir=out / "dvclive",
        settings={"name": "cancer", "family": "sklearn", "sklearn": {"max_iter": 20}},
        label="target",
        decision=decision,
    )
    return out / "trained"


def _best_by_hand(labels, scores, criterion):
    """Every distinct score tried as a threshold, the best kept (the slow, obvious way)."""
    best, chosen = -np.inf, None
    for t in sorted(set(scores.tolist()), reverse=True):
        decided = (scores >= t).astype(int)
        tp = int(((decided == 1) & (labels == 1)).sum())
        fp = int(((decided == 1) & (labels == 0)).sum())
        fn = int(((decided == 0) & (labels == 1)).sum())
        if criterion == "f1":
            value = skm.f1_score(labels, decided, zero_division=0)
        elif criterion == "youden":
            value = tp / labels.sum() - fp / (len(labels) - labels.sum())
        else:
            value = -(COSTS["false_positive"] * fp + COSTS["false_negative"] * fn)
        if value > best + 1e-12:
            best, chosen = value, t
    return chosen


@pytest.mark.slow
@pytest.mark.parametrize("criterion", ["f1", "youden", "cost"])
def test_auto_threshold_is_chosen_on_validation_and_recorded_everywhere(
    splits, tmp_path, criterion
):
    decision = {"threshold": "auto", "threshold_criterion": criterion, "costs": COSTS}
    trained = _train(splits, tmp_path, decision)
    meta = read_meta(trained)
    valid = pd.read_parquet(splits / "valid.parquet")
    scores = load_trained_model(trained).predict_proba(valid)[:, 1]
    expected = _best_by_hand(valid["target"].to_numpy(), scores, criterion)
    assert meta.threshold == pytest.approx(expected) and meta.threshold_criterion == criterion
    assert meta.threshold != 0.5

    export_model(
        trained=trained,
        test=splits / "test.parquet",
        model=tmp_path / "model.onnx",
        metrics=tmp_path / "export.json",
        settings={},
    )
    contract = read_contract(open_session(tmp_path / "model.onnx", what="m"), what="m")
    assert contract.threshold == meta.threshold
    assert contract.metadata["threshold_criterion"] == criterion

    # Evaluation decides with the recorded threshold, not with params (which say auto).
    evaluate_model(
        trained=trained,
        test=splits / "test.parquet",
        metrics=tmp_path / "evaluate.json",
        plots_dir=tmp_path / "plots",
        settings=decision,
        label="target",
    )
    written = json.loads((tmp_path / "evaluate.json").read_text())
    assert written["threshold"] == meta.threshold
    assert written["threshold_criterion"] == criterion
    test = pd.read_parquet(splits / "test.parquet")
    proba = load_trained_model(trained).predict_proba(test)[:, 1]
    decided = (proba >= meta.threshold).astype(int)
    assert written["f1"] == pytest.approx(skm.f1_score(test["target"], decided))
    confusion = json.loads((tmp_path / "plots" / "confusion.json").read_text())
    assert [r["predicted"] for r in confusion] == decided.tolist()


@pytest.mark.slow
def test_a_fixed_threshold_is_recorded_as_it_is(splits, tmp_path):
    meta = read_meta(_train(splits, tmp_path, {"threshold": 0.3}))
    assert meta.threshold == 0.3 and meta.threshold_criterion is None


def test_cost_criterion_without_costs_names_the_key():
    with pytest.raises(ConfigError, match=r"^params.yaml evaluate: .*needs evaluate.costs"):
        _parse({"threshold": "auto", "threshold_criterion": "cost"})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"threshold_criterion": "precision"}, r"^params.yaml evaluate.threshold_criterion: "),
        ({"threshold": "best"}, r"^params.yaml evaluate.threshold: expected a number .* or 'auto'"),
        (
            {"costs": {"false_positive": 0, "false_negative": 1}},
            r"^params.yaml evaluate.costs.false_positive: input should be greater than 0",
        ),
        ({"costs": {"false_positive": 1}}, r"^params.yaml evaluate.costs.false_negative: "),
    ],
)
def test_bad_decision_rule_is_one_line_naming_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        _parse(section)


def test_ties_keep_the_highest_threshold_and_a_number_is_kept():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.4, 0.8])
    assert choose_threshold(labels, scores, _parse({"threshold": 0.7})) == 0.7
    # F1 at 0.8 is 2/3, at 0.4 it is 0.8, at 0.1 it is 2/3.
    assert choose_threshold(labels, scores, _parse({"threshold": "auto"})) == 0.4


def _parse(section):
    from mlops_gitops.params import parse_section

    return parse_section(DecisionSection, section, "evaluate")
