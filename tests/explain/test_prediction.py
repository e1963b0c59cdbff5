"""Per-prediction explanations: checked rows, top contributions, wording, counterfactual."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gitops.explain.explained_model import (
    ExplainError,
    FeatureSpace,
    FeatureSpec,
    TabularModel,
    load_tabular_model,
)
from mlops_gitops.explain.prediction import explain_prediction, parse_row
from mlops_gitops.explain.settings import parse_settings

SPACE = FeatureSpace(
    (
        FeatureSpec(name="income", kind="numeric", low=0, high=10),
        FeatureSpec(name="housing", kind="categorical", categories=("own", "rent")),
    )
)
# parse_row reads only the feature space: no session is needed to check a row
SHAPE_ONLY = TabularModel(
    path=Path("model.onnx"),
    session=None,
    space=SPACE,
    onnx_types={"income": "tensor(float)", "housing": "tensor(string)"},
)


def test_parse_row_accepts_nulls_and_ignores_other_keys():
    frame = parse_row(SHAPE_ONLY, {"income": None, "housing": "rent", "customer_id": "C1"})
    assert list(frame.columns) == ["income", "housing"] and frame["housing"].iloc[0] == "rent"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"housing": "own"}, "row.json: missing feature 'income' (use null for a missing value)"),
        (
            {"income": "high", "housing": "own"},
            "row.json: income: expected a number or null, got 'high'",
        ),
        (
            {"income": 1, "housing": "castle"},
            "row.json: housing: unknown category 'castle' (known: own, rent)",
        ),
    ],
)
def test_parse_row_names_the_bad_field(row, message):
    with pytest.raises(ExplainError) as info:
        parse_row(SHAPE_ONLY, row, origin="row.json")
    assert str(info.value) == message


@pytest.mark.slow
@pytest.mark.parametrize("method", ["shap", "lime"])
def test_explain_prediction_gives_top_contributions_wording_and_counterfactual(tree_model, method):
    model = load_tabular_model(tree_model.onnx, tree_model.train, trained_dir=tree_model.trained)
    settings = parse_settings({"template": "credit", "immutable": ["age_band"], "top": 4})
    probability = model.predict_proba(tree_model.test)
    row = tree_model.test.iloc[[int(probability.argmax())]]
    result = explain_prediction(
        model,
        row,
        background=tree_model.train.head(40),
        settings=settings,
        method=method,
        with_counterfactual=True,
    )
    assert result.positive and result.probability == pytest.approx(probability.max())
    assert len(result.contributions) == 4
    sizes = [abs(c.contribution) for c in result.contributions]
    assert sizes == sorted(sizes, reverse=True)
    assert result.text.startswith("**Declined.**") and "declined mainly because of" in result.text
    assert result.counterfactual is not None and result.counterfactual.probability_after < 0.5
    assert "would have been different" in result.text
