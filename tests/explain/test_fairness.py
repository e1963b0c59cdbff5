"""Fairness metrics match a hand computation on a tiny table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.explain.explained_model import ExplainError
from mlops_gitops.explain.fairness import fairness_metrics

# Group A: 4 rows, 3 positive decisions; group B: 4 rows, 1 positive decision.
TABLE = pd.DataFrame(
    {
        "sex": ["A", "A", "A", "A", "B", "B", "B", "B"],
        "label": [1, 1, 0, 0, 1, 1, 0, 0],
        "decision": [1, 1, 1, 0, 1, 0, 0, 0],
    }
)


def test_fairness_metrics_match_a_hand_computation():
    result = fairness_metrics(
        TABLE, TABLE["label"].to_numpy(), TABLE["decision"].to_numpy(), sensitive=["sex"]
    )
    groups = result["by_group"]["sex"]
    # selection rate: A 3/4, B 1/4 -> demographic parity difference 0.5
    assert groups["A"]["selection_rate"] == 0.75 and groups["B"]["selection_rate"] == 0.25
    # true positive rate: A 2/2, B 1/2; false positive rate: A 1/2, B 0/2 -> equalized odds 0.5
    assert groups["A"]["true_positive_rate"] == 1.0 and groups["B"]["true_positive_rate"] == 0.5
    assert groups["A"]["false_positive_rate"] == 0.5 and groups["B"]["false_positive_rate"] == 0.0
    assert groups["A"]["accuracy"] == 0.75 and groups["B"]["accuracy"] == 0.75
    assert groups["A"]["count"] == 4
    assert result["demographic_parity_difference"] == pytest.approx(0.5)
    assert result["equalized_odds_difference"] == pytest.approx(0.5)
    assert result["by_attribute"]["sex"]["demographic_parity_difference"] == pytest.approx(0.5)


def test_fairness_reports_the_worst_attribute_and_a_missing_group():
    table = TABLE.assign(band=["x", "x", None, None, "x", "x", None, None])
    result = fairness_metrics(
        table, table["label"].to_numpy(), table["decision"].to_numpy(), sensitive=["sex", "band"]
    )
    # band: x -> decisions 1,1,1,0 (rate 3/4); missing -> 1,0,0,0 (rate 1/4)
    assert set(result["by_group"]["band"]) == {"x", "missing"}
    assert result["demographic_parity_difference"] == pytest.approx(0.5)


def test_fairness_without_sensitive_attributes_measures_nothing():
    result = fairness_metrics(
        TABLE, TABLE["label"].to_numpy(), np.zeros(8, dtype=int), sensitive=[]
    )
    assert math.isnan(result["demographic_parity_difference"])


def test_fairness_names_an_absent_sensitive_attribute():
    with pytest.raises(ExplainError, match=r"^schema.sensitive: age_band not in the test data"):
        fairness_metrics(
            TABLE, TABLE["label"].to_numpy(), TABLE["decision"].to_numpy(), sensitive=["age_band"]
        )
