"""Counterfactuals flip the ONNX model's decision and never change an immutable feature."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlops_gitops.explain.counterfactual import find_counterfactual
from mlops_gitops.explain.explained_model import load_tabular_model

pytestmark = pytest.mark.slow

IMMUTABLE = ("age_band", "sex")
RULES = {
    "loan_term_months": {"allowed": [12, 24, 36, 48, 60]},
    "interest_rate": {"min": 0, "max": 20},
}


@pytest.fixture(scope="module")
def model(tree_model):
    return load_tabular_model(
        tree_model.onnx, tree_model.train, trained_dir=tree_model.trained, rules=RULES
    )


def rows_of_both_decisions(model, frame, count):
    probability = model.predict_proba(frame)
    positive = np.flatnonzero(probability >= 0.5)[:count]
    negative = np.flatnonzero(probability < 0.5)[:count]
    assert len(positive) and len(negative)
    return frame.iloc[np.concatenate([positive, negative])]


def test_counterfactual_flips_the_onnx_decision_and_keeps_immutables(model, tree_model):
    rows = rows_of_both_decisions(model, tree_model.test, 4)
    for _, row in rows.iterrows():
        frame = row.to_frame().T
        encoded = model.space.encode(frame)[0]
        result = find_counterfactual(model, encoded, threshold=0.5, immutable=IMMUTABLE)
        assert result is not None
        changed = _as_frame(model, result.row)
        # the decision of the ONNX model on the changed row really differs
        before, after = model.predict_proba(frame)[0], model.predict_proba(changed)[0]
        assert (before >= 0.5) != (after >= 0.5)
        assert after == pytest.approx(result.probability_after)
        assert not {c.feature for c in result.changes} & set(IMMUTABLE)
        assert changed["age_band"].iloc[0] == frame["age_band"].iloc[0]
        assert 1 <= len(result.changes) <= 3


def test_counterfactual_values_stay_in_the_schema_ranges(model, tree_model):
    spec = {f.name: f for f in model.space.features}
    assert spec["interest_rate"].high <= 20 and spec["loan_term_months"].allowed == (
        12,
        24,
        36,
        48,
        60,
    )
    for _, row in rows_of_both_decisions(model, tree_model.test, 3).iterrows():
        result = find_counterfactual(
            model, model.space.encode(row.to_frame().T)[0], immutable=IMMUTABLE
        )
        for change in result.changes if result else ():
            feature = spec[change.feature]
            if feature.kind == "categorical":
                assert change.after in feature.categories
            elif feature.allowed:
                assert change.after in feature.allowed
            else:
                assert feature.low <= change.after <= feature.high


def test_no_counterfactual_when_every_feature_is_immutable(model, tree_model):
    encoded = model.space.encode(tree_model.test.head(1))[0]
    assert find_counterfactual(model, encoded, immutable=model.space.names) is None


def _as_frame(model, row):
    import pandas as pd

    values = {
        k: (math.nan if v is None and model.space.spec(k).kind == "numeric" else v)
        for k, v in row.items()
    }
    return pd.DataFrame([values])
