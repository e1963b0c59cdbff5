"""The built-in samples of every kind of model: seeded, realistic, drifting, with PII."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.data import SAMPLE_KINDS, generate_kind, generate_sample, read_dataset
from mlops_gitops.errors import ConfigError, DataError

# kind -> (label or None, PII columns, an id column)
KINDS = {
    "triage": ("priority", ("requester_email", "requester_phone"), "ticket_id"),
    "forecast": ("units_sold", ("manager_email", "manager_phone"), "record_id"),
    "segments": (None, ("email", "phone"), "customer_id"),
    "fraud": ("is_fraud", ("card_number", "cardholder_email"), "transaction_id"),
}


def test_every_kind_has_a_generator():
    assert list(SAMPLE_KINDS) == ["credit", *KINDS]


def test_the_credit_kind_is_the_credit_sample():
    assert generate_kind("credit", 300, 9, 0.5).equals(generate_sample(300, 9, 0.5))


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_is_seeded_and_deterministic(kind):
    first = generate_kind(kind, 500, 11)
    assert first.equals(generate_kind(kind, 500, 11))
    assert not first.equals(generate_kind(kind, 500, 12))
    assert len(first) == 500


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_has_categoricals_missing_values_pii_and_unique_ids(kind):
    label, pii, id_column = KINDS[kind]
    frame = generate_kind(kind, 2000, 3)
    features = frame.drop(columns=[c for c in (label, id_column, *pii) if c])
    assert sum(pd.api.types.is_string_dtype(features[c]) for c in features) >= 3
    assert sum(pd.api.types.is_float_dtype(features[c]) for c in features) >= 4
    assert features.isna().any().sum() >= 2
    assert frame[id_column].is_unique
    assert frame[list(pii)].notna().all().all()
    if label is None:
        assert not {"priority", "units_sold", "is_fraud", "label", "segment"} & set(frame.columns)
    else:
        assert frame[label].notna().all() and frame.columns[-1] == label


@pytest.mark.parametrize("kind", KINDS)
def test_drift_shifts_a_kind_measurably(kind):
    reference = generate_kind(kind, 3000, 5)
    later = generate_kind(kind, 3000, 5, drift=1.0)
    numeric = reference.select_dtypes("number").columns
    shifts = [
        abs(later[c].mean() - reference[c].mean()) / (reference[c].std() or 1) for c in numeric
    ]
    assert max(shifts) > 0.1
    assert generate_kind(kind, 3000, 5, drift=0.0).equals(reference)


def test_triage_priorities_are_named_classes_that_follow_the_features():
    frame = generate_kind("triage", 4000, 1)
    shares = frame["priority"].value_counts(normalize=True)
    assert set(shares.index) == {"low", "medium", "high"} and shares.min() > 0.1
    high = frame["priority"] == "high"
    outage = frame["mentions_outage"] == "yes"
    assert high[outage].mean() > 2 * high[~outage].mean()


def test_forecast_has_dates_and_a_demand_that_follows_promotions():
    frame = generate_kind("forecast", 4000, 1)
    dates = pd.to_datetime(frame["order_date"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2023-01-01") and dates.max() < pd.Timestamp("2025-01-01")
    assert frame["units_sold"].dtype == np.float64 and (frame["units_sold"] >= 0).all()
    promo = frame["promo"] == "yes"
    assert frame.loc[promo, "units_sold"].mean() > 1.2 * frame.loc[~promo, "units_sold"].mean()
    later = pd.to_datetime(generate_kind("forecast", 400, 1, drift=1.0)["order_date"])
    assert later.min() >= pd.Timestamp("2024-01-01")
    per_store = frame.groupby("store_id")["store_size"].nunique(dropna=False)
    assert (per_store == 1).all()  # a store keeps its size: an entity for a group split


def test_fraud_is_rare_and_different():
    frame = generate_kind("fraud", 20_000, 2)
    rate = frame["is_fraud"].mean()
    assert 0.008 < rate < 0.025
    assert generate_kind("fraud", 20_000, 2, drift=1.0)["is_fraud"].mean() > 1.5 * rate
    fraud = frame["is_fraud"] == 1
    assert frame.loc[fraud, "amount"].median() > 3 * frame.loc[~fraud, "amount"].median()


def test_segments_have_structure_to_find():
    frame = generate_kind("segments", 3000, 4)
    assert frame["annual_spend"].std() / frame["annual_spend"].mean() > 0.5
    assert frame["age"].between(18, 95).all()


def test_an_unknown_kind_is_one_line():
    with pytest.raises(DataError, match=r"^data.sample.kind: unknown sample 'x'; expected one of"):
        generate_kind("x", 100)


def test_the_sample_connector_reads_the_kind_from_params():
    data = {"source": "sample", "sample": {"kind": "triage", "rows": 50, "seed": 3}}
    assert read_dataset(data).equals(generate_kind("triage", 50, 3))
    with pytest.raises(ConfigError, match=r"params.yaml data.sample.kind: "):
        read_dataset({"source": "sample", "sample": {"kind": "weather"}})
