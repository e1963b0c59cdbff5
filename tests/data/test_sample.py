"""The built-in sample: deterministic, realistic, and drifting on demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mlops_gitops.data import generate_later_period, generate_sample
from mlops_gitops.data.sample import (
    CATEGORICAL_FEATURES,
    COLUMNS,
    NUMERIC_FEATURES,
    PII_COLUMNS,
    SENSITIVE_COLUMNS,
)
from mlops_gitops.errors import DataError


def psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """Population stability index of a numeric column, on the reference's deciles."""
    edges = np.unique(np.nanquantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    ref = np.histogram(reference.dropna(), edges)[0] / reference.notna().sum()
    cur = np.histogram(current.dropna(), edges)[0] / current.notna().sum()
    ref, cur = np.clip(ref, 1e-6, None), np.clip(cur, 1e-6, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return generate_sample(4000, 11)


def test_same_seed_gives_the_same_frame():
    pd.testing.assert_frame_equal(generate_sample(300, 5), generate_sample(300, 5))


def test_other_seed_gives_other_rows():
    first, second = generate_sample(300, 5), generate_sample(300, 6)
    assert not first["income"].equals(second["income"])


def test_columns_and_dtypes_follow_the_data_contract(reference):
    assert tuple(reference.columns) == COLUMNS
    assert len(NUMERIC_FEATURES) + len(CATEGORICAL_FEATURES) == 20
    for name in NUMERIC_FEATURES:
        assert reference[name].dtype == "float64", name
    for name in (*CATEGORICAL_FEATURES, *PII_COLUMNS, *SENSITIVE_COLUMNS, "customer_id"):
        assert pd.api.types.is_string_dtype(reference[name]), name
    assert reference["default"].dtype == "int64"
    assert set(reference["default"].unique()) == {0, 1}


def test_ids_are_unique_and_pii_is_complete(reference):
    assert reference["customer_id"].is_unique
    assert reference["national_id"].is_unique
    assert reference[list(PII_COLUMNS)].notna().all().all()
    assert reference["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z.]+").all()


def test_some_numeric_and_categorical_features_have_missing_values(reference):
    missing = reference.isna().mean()
    assert 0.02 < missing["income"] < 0.07
    assert 0.07 < missing["savings_balance"] < 0.13
    assert missing["education"] > 0.01
    assert missing[["loan_amount", "region", "default", "sex"]].sum() == 0


def test_sensitive_attributes_have_the_documented_values(reference):
    assert set(reference["sex"]) == {"F", "M"}
    assert set(reference["age_band"]) == {"18-25", "26-35", "36-45", "46-55", "56-65", "65+"}


def test_base_rate_is_between_15_and_25_percent(reference):
    assert 0.15 <= reference["default"].mean() <= 0.25


def test_label_has_real_signal_but_is_noisy(reference):
    features = ["debt_to_income", "credit_utilization", "num_late_payments", "income"]
    x = reference[features].fillna(reference[features].median())
    x = x.assign(income=np.log(x["income"]))
    model = LogisticRegression(max_iter=500).fit(x[:3000], reference["default"][:3000])
    auc = roc_auc_score(reference["default"][3000:], model.predict_proba(x[3000:])[:, 1])
    assert 0.65 < auc < 0.92


def test_drift_zero_is_the_reference_period(reference):
    pd.testing.assert_frame_equal(generate_sample(4000, 11, 0.0), reference)


def test_drift_shifts_feature_distributions_measurably(reference):
    later = generate_sample(4000, 11, drift=1.0)
    assert psi(reference["credit_utilization"], later["credit_utilization"]) > 0.1
    assert psi(reference["income"], later["income"]) > 0.05
    assert later["num_credit_inquiries"].mean() > 1.3 * reference["num_credit_inquiries"].mean()
    young = (later["age_band"] == "18-25").mean() - (reference["age_band"] == "18-25").mean()
    assert young > 0.03


def test_no_drift_keeps_distributions_stable(reference):
    other_seed = generate_sample(4000, 12, drift=0.0)
    assert psi(reference["credit_utilization"], other_seed["credit_utilization"]) < 0.02
    assert psi(reference["income"], other_seed["income"]) < 0.02


def test_drift_changes_the_label_relationship(reference):
    later = generate_sample(4000, 11, drift=1.0)
    high = reference["debt_to_income"] > 0.45
    later_high = later["debt_to_income"] > 0.45
    lift = later.loc[later_high, "default"].mean() - reference.loc[high, "default"].mean()
    assert lift > 0.03


def test_later_period_has_new_applicants_and_drift():
    reference = generate_sample(500, 3)
    later = generate_later_period(500, 3, drift=1.0)
    assert later["customer_id"].str.startswith("L").all()
    assert set(reference["customer_id"]).isdisjoint(later["customer_id"])
    assert later["credit_utilization"].mean() > reference["credit_utilization"].mean()


@pytest.mark.parametrize(
    ("rows", "drift", "message"),
    [
        (5, 0.0, "data.sample.rows: expected at least 10 rows, got 5"),
        (100, -0.5, "data.sample.drift: expected a number >= 0, got -0.5"),
    ],
)
def test_out_of_range_arguments_are_refused(rows, drift, message):
    with pytest.raises(DataError, match=f"^{message}$"):
        generate_sample(rows, 1, drift)
