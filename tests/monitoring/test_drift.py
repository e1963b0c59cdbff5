"""Drift statistics against scipy on known distributions; quiet without drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlops_gitops.monitoring.config import DriftConfig
from mlops_gitops.monitoring.drift import (
    chi2_from_counts,
    compute_drift,
    ks_pvalue,
    ks_statistic,
    psi_from_counts,
    psi_numeric,
    quantile_edges,
    sorted_values,
)
from tests.helpers.monitoring import make_frame

RNG = np.random.default_rng(7)
CASES = {
    "normal-shift": (RNG.normal(0, 1, 800), RNG.normal(0.4, 1, 1500)),
    "scale-change": (RNG.normal(0, 1, 600), RNG.normal(0, 2, 700)),
    "same": (RNG.exponential(1, 900), RNG.exponential(1, 1100)),
    "ties": (RNG.integers(0, 5, 700).astype(float), RNG.integers(0, 7, 900).astype(float)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ks_statistic_and_pvalue_match_scipy(case: str) -> None:
    ref, cur = CASES[case]
    expected = stats.ks_2samp(ref, cur, method="asymp")
    d = ks_statistic(sorted_values(ref), sorted_values(cur))
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert ks_pvalue(d, ref.size, cur.size) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi_square_matches_scipy_contingency() -> None:
    ref, cur = np.array([120, 80, 40, 9]), np.array([100, 110, 30, 0])
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    chi2, pvalue = chi2_from_counts(ref, cur)
    assert chi2 == pytest.approx(expected.statistic)
    assert pvalue == pytest.approx(expected.pvalue)


def test_psi_matches_histogram_on_reference_quantile_bins() -> None:
    ref, cur = CASES["normal-shift"]
    edges = quantile_edges(sorted_values(ref), 10)
    bounds = np.concatenate(([-np.inf], edges, [np.inf]))
    # np.histogram's bins are closed on the left; ours on the right: flip the sign to compare.
    ref_counts = np.histogram(-ref, bins=-bounds[::-1])[0][::-1]
    cur_counts = np.histogram(-cur, bins=-bounds[::-1])[0][::-1]
    p, q = ref_counts / ref.size, cur_counts / cur.size
    expected = np.sum((q - p) * np.log(q / p))
    assert psi_numeric(sorted_values(ref), sorted_values(cur), 10) == pytest.approx(expected)


def test_psi_is_zero_for_identical_counts_and_floors_empty_bins() -> None:
    assert psi_from_counts([10, 20, 30], [10, 20, 30]) == 0.0
    assert np.isfinite(psi_from_counts([10, 0, 30], [0, 20, 30]))


def test_missing_values_are_left_out_of_the_statistics() -> None:
    ref = np.array([1.0, 2.0, np.nan, 3.0])
    assert sorted_values(ref).tolist() == [1.0, 2.0, 3.0]


def test_no_drift_window_stays_quiet() -> None:
    ref, cur = make_frame(3000, seed=1), make_frame(2000, seed=2)
    report = compute_drift(ref, cur, ["income", "age", "region"], DriftConfig())
    assert report.drifted_count == 0
    assert not report.dataset_drift
    assert report.max_psi < 0.05


def test_drifted_window_is_detected_per_feature() -> None:
    ref, cur = make_frame(3000, seed=1), make_frame(2000, seed=2, shift=1.0)
    report = compute_drift(ref, cur, ["income", "age", "region"], DriftConfig())
    drifted = {f.feature for f in report.features if f.drifted}
    assert drifted == {"income", "region"}
    assert report.dataset_drift
    region = next(f for f in report.features if f.feature == "region")
    assert region.kind == "categorical" and region.test == "chi2" and region.pvalue < 1e-10


def test_decide_by_test_flags_significant_but_small_shifts() -> None:
    ref = pd.DataFrame({"x": RNG.normal(0, 1, 20000)})
    cur = pd.DataFrame({"x": RNG.normal(0.08, 1, 20000)})
    by_psi = compute_drift(ref, cur, ["x"], DriftConfig(decide_by="psi"))
    by_test = compute_drift(ref, cur, ["x"], DriftConfig(decide_by="test"))
    assert not by_psi.features[0].drifted
    assert by_test.features[0].drifted


def test_categorical_values_compare_as_text() -> None:
    ref = pd.DataFrame({"code": pd.Series(["1", "2"] * 50)})
    cur = pd.DataFrame({"code": pd.Series([1, 2] * 50, dtype=object)})
    report = compute_drift(ref, cur, ["code"], DriftConfig())
    assert report.features[0].psi == 0.0


def test_feature_without_values_on_one_side_is_skipped() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    cur = pd.DataFrame({"x": [np.nan, np.nan]})
    assert compute_drift(ref, cur, ["x"]).features == ()


def test_large_samples_use_the_limiting_distribution_within_one_percent() -> None:
    ref, cur = RNG.normal(0, 1, 30000), RNG.normal(0.02, 1, 60000)
    expected = stats.ks_2samp(ref, cur, method="asymp")
    d = ks_statistic(sorted_values(ref), sorted_values(cur))
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert ks_pvalue(d, ref.size, cur.size) == pytest.approx(expected.pvalue, rel=0.01)


@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    st.lists(st.integers(-5, 5), min_size=1, max_size=40),
)
@settings(max_examples=200, deadline=None)
# scipy's p-value divides by zero for one-row samples; only its statistic is compared here.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_ks_statistic_equals_scipy_with_ties_and_any_sizes(ref: list[int], cur: list[int]) -> None:
    a, b = np.array(ref, dtype=float), np.array(cur, dtype=float)
    expected = stats.ks_2samp(a, b, method="asymp").statistic
    assert ks_statistic(sorted_values(a), sorted_values(b)) == pytest.approx(expected, abs=1e-12)
