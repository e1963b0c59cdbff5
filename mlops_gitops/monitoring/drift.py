"""Data drift statistics: PSI, two-sample Kolmogorov-Smirnov and chi-square.

All statistics are computed column by column with vectorised numpy; missing
values are left out (their rates are a data-quality figure). The algorithms:

**PSI, numeric feature.** The reference is sorted once. Bin edges are its
quantiles at ``k/B`` (``k = 1..B-1``, ``B = drift.bins``, duplicates merged),
giving bins ``(-inf, e1], (e1, e2], ..., (eK, +inf)``. Counts come from
``searchsorted`` of the edges into each *sorted* sample (``O(B log n)``, no
pass over the data). With proportions ``r_i`` and ``c_i`` floored at
``1e-4``::

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i)

**PSI, categorical feature.** The same formula over the union of the
categories seen in either sample.

**KS, numeric feature.** ``D = sup_x |F_r(x) - F_c(x)|`` over the empirical
CDFs. Both samples are sorted. Between two distinct reference values the
reference CDF is constant and the current one only grows, so the supremum
is reached at the ends of those intervals: ``D`` needs the current CDF at,
and just before, each distinct reference value, two ``searchsorted`` calls
of the (smaller) reference into the sorted current sample. The p-value is Smirnov's asymptotic
two-sided distribution ``kstwo.sf(D, en)`` with ``en = round(n*m/(n+m))``,
the formula of ``scipy.stats.ks_2samp(method="asymp")``; above 10,000
effective rows the limiting Kolmogorov distribution ``kolmogorov(sqrt(en)*D)``
is used instead (within 1% of it, and thousands of times faster).

**Chi-square, categorical feature.** The ``2 x K`` contingency table of
category counts (reference row, current row); ``chi2 = sum (O-E)^2/E``
with ``E`` from the margins, ``K-1`` degrees of freedom and no continuity
correction (``scipy.stats.chi2_contingency(correction=False)``).

**Decision.** A feature drifts by ``drift.decide_by``: ``psi`` (PSI >=
``psi_threshold``), ``test`` (p-value < ``pvalue``), ``either`` or ``both``.
The dataset drifts when the share of drifted features >= ``drift_share``.
With very large windows every test is significant, which is why PSI, an
effect size, is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from mlops_gitops.contract import FeatureKind
from mlops_gitops.monitoring.config import DriftConfig

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PSI_EPSILON = 1e-4
KS_LIMITING_N = 10_000


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    """The drift of one feature between the reference and the current window."""

    feature: str
    kind: FeatureKind
    test: Literal["ks", "chi2"]
    psi: float
    statistic: float
    pvalue: float
    drifted: bool
    reference_rows: int
    current_rows: int


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    """Drift of every monitored feature, and the dataset-level decision."""

    features: tuple[FeatureDrift, ...]
    drifted_count: int
    share: float
    dataset_drift: bool
    max_psi: float


def is_numeric(series: pd.Series) -> bool:
    """Return whether a column is treated as numeric (booleans are categorical)."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def sorted_values(values: npt.ArrayLike) -> FloatArray:
    """Return the non-missing values as a sorted float64 array."""
    array = np.asarray(values, dtype=np.float64)
    return np.sort(array[~np.isnan(array)])


def quantile_edges(reference_sorted: FloatArray, bins: int) -> FloatArray:
    """Return the distinct interior quantile edges of a sorted reference sample."""
    n = reference_sorted.shape[0]
    positions = (np.arange(1, bins) * n) // bins
    return np.unique(reference_sorted[np.minimum(positions, n - 1)])


def binned_counts(sorted_sample: FloatArray, edges: FloatArray) -> IntArray:
    """Count a sorted sample in the bins ``(-inf, e1], (e1, e2], ..., (eK, inf)``."""
    cumulative = np.searchsorted(sorted_sample, edges, side="right")
    bounds = np.concatenate(([0], cumulative, [sorted_sample.shape[0]]))
    return np.diff(bounds).astype(np.int64)


def psi_from_counts(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> float:
    """Return the population stability index of two count vectors over the same bins."""
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    ref_p = np.maximum(ref / max(ref.sum(), 1.0), PSI_EPSILON)
    cur_p = np.maximum(cur / max(cur.sum(), 1.0), PSI_EPSILON)
    return float(np.sum((cur_p - ref_p) * np.log(cur_p / ref_p)))


def psi_numeric(reference_sorted: FloatArray, current_sorted: FloatArray, bins: int = 10) -> float:
    """Return the PSI of two sorted numeric samples on the reference's quantile bins."""
    edges = quantile_edges(reference_sorted, bins)
    return psi_from_counts(
        binned_counts(reference_sorted, edges), binned_counts(current_sorted, edges)
    )


def _distinct_ends(sorted_sample: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the distinct values of a sorted sample and the CDF at each of them."""
    n = sorted_sample.shape[0]
    is_last = np.empty(n, dtype=bool)
    np.not_equal(sorted_sample[1:], sorted_sample[:-1], out=is_last[:-1])
    is_last[-1] = True
    ends = np.flatnonzero(is_last)
    return sorted_sample[ends], (ends + 1) / n


def ks_statistic(reference_sorted: FloatArray, current_sorted: FloatArray) -> float:
    """Return the two-sample KS statistic ``D`` of two sorted, non-empty samples.

    Between two distinct reference values ``u[j-1] <= x < u[j]`` the reference
    CDF is constant and the current CDF only grows, so the supremum on that
    interval is at its ends: ``F_c(u[j-1])`` and ``F_c(u[j]-)``. Both come from
    a ``searchsorted`` of the reference's distinct values into the sorted
    current sample, so no pass over the (larger) current sample is needed.
    """
    m = current_sorted.shape[0]
    points, ref_cdf = _distinct_ends(reference_sorted)
    at_points = np.searchsorted(current_sorted, points, side="right") / m
    before_points = np.searchsorted(current_sorted, points, side="left") / m
    ref_before = np.concatenate(([0.0], ref_cdf[:-1]))
    return float(max(np.abs(ref_cdf - at_points).max(), np.abs(ref_before - before_points).max()))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Return the asymptotic two-sided p-value of a KS statistic.

    Up to :data:`KS_LIMITING_N` effective rows this is scipy's ``asymp``
    p-value, ``kstwo.sf(D, en)``; above it, the limiting Kolmogorov
    distribution ``kolmogorov(sqrt(en) * D)`` (a C ufunc; ``kstwo.sf`` can
    take half a second per call there), within 1% of it.
    """
    big, small = max(n, m), min(n, m)
    effective = max(round(big * small / (big + small)), 1)
    if effective > KS_LIMITING_N:
        from scipy.special import kolmogorov

        return float(np.clip(kolmogorov(np.sqrt(effective) * statistic), 0.0, 1.0))
    from scipy.stats import kstwo

    return float(np.clip(kstwo.sf(statistic, effective), 0.0, 1.0))


def chi2_from_counts(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> tuple[float, float]:
    """Return ``(chi2, pvalue)`` of the 2 x K contingency table of two count vectors."""
    from scipy.special import chdtrc

    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return chi2, float(chdtrc(table.shape[1] - 1, chi2))


def category_counts(reference: pd.Series, current: pd.Series) -> tuple[IntArray, IntArray]:
    """Count the categories of two columns over the union of their values."""
    ref_counts, cur_counts = _counts_by_text(reference), _counts_by_text(current)
    index = ref_counts.index.union(cur_counts.index)
    return (
        ref_counts.reindex(index, fill_value=0).to_numpy(dtype=np.int64),
        cur_counts.reindex(index, fill_value=0).to_numpy(dtype=np.int64),
    )


def _counts_by_text(column: pd.Series) -> pd.Series:
    # Compare categories as text: a live 1 and a reference "1" are the same value.
    counts = column.value_counts(dropna=True)
    counts.index = counts.index.map(str)
    return counts.groupby(level=0).sum() if counts.index.has_duplicates else counts


def _is_drifted(psi: float, pvalue: float, config: DriftConfig) -> bool:
    by_psi = psi >= config.psi_threshold
    by_test = pvalue < config.pvalue
    return {
        "psi": by_psi,
        "test": by_test,
        "either": by_psi or by_test,
        "both": by_psi and by_test,
    }[config.decide_by]


def numeric_drift(
    name: str, reference: npt.ArrayLike, current: npt.ArrayLike, config: DriftConfig
) -> FeatureDrift | None:
    """Return the drift of a numeric feature, or None when a side has no values."""
    ref, cur = sorted_values(reference), sorted_values(current)
    if ref.size == 0 or cur.size == 0:
        return None
    psi = psi_numeric(ref, cur, config.bins)
    statistic = ks_statistic(ref, cur)
    pvalue = ks_pvalue(statistic, ref.size, cur.size)
    drifted = _is_drifted(psi, pvalue, config)
    return FeatureDrift(
        feature=name,
        kind="numeric",
        test="ks",
        psi=psi,
        statistic=statistic,
        pvalue=pvalue,
        drifted=drifted,
        reference_rows=ref.size,
        current_rows=cur.size,
    )


def categorical_drift(
    name: str, reference: pd.Series, current: pd.Series, config: DriftConfig
) -> FeatureDrift | None:
    """Return the drift of a categorical feature, or None when a side has no values."""
    ref_counts, cur_counts = category_counts(reference, current)
    ref_rows, cur_rows = int(ref_counts.sum()), int(cur_counts.sum())
    if ref_rows == 0 or cur_rows == 0:
        return None
    psi = psi_from_counts(ref_counts, cur_counts)
    statistic, pvalue = chi2_from_counts(ref_counts, cur_counts)
    drifted = _is_drifted(psi, pvalue, config)
    return FeatureDrift(
        feature=name,
        kind="categorical",
        test="chi2",
        psi=psi,
        statistic=statistic,
        pvalue=pvalue,
        drifted=drifted,
        reference_rows=ref_rows,
        current_rows=cur_rows,
    )


def feature_drift(
    name: str, reference: pd.Series, current: pd.Series, config: DriftConfig
) -> FeatureDrift | None:
    """Return the drift of one column, numeric or categorical by the reference's dtype."""
    if is_numeric(reference):
        return numeric_drift(
            name,
            reference.to_numpy(dtype=np.float64, na_value=np.nan),
            current.to_numpy(dtype=np.float64, na_value=np.nan),
            config,
        )
    return categorical_drift(name, reference, current, config)


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    config: DriftConfig | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` on ``features`` and decide dataset drift."""
    config = config or DriftConfig()
    results = []
    for name in features:
        result = feature_drift(name, reference[name], current[name], config)
        if result is not None:
            results.append(result)
    return summarise_drift(results, config)


def summarise_drift(results: Sequence[FeatureDrift], config: DriftConfig) -> DriftReport:
    """Combine per-feature results into a :class:`DriftReport`."""
    count = sum(1 for r in results if r.drifted)
    share = count / len(results) if results else 0.0
    return DriftReport(
        features=tuple(results),
        drifted_count=count,
        share=share,
        dataset_drift=bool(results) and share >= config.drift_share,
        max_psi=max((r.psi for r in results), default=0.0),
    )
