"""Feature correlation, mutual information with the label, and the feature-selection report.

Association between two columns uses the measure that fits their kinds:
Spearman's rank correlation for two numeric columns (signed), Cramér's V
for two categorical columns, and the correlation ratio (eta) for a numeric
and a categorical column (both from 0 to 1). Sensitive attributes are
included, so features that act as proxies for them show up. Mutual
information with the label uses scikit-learn on the encoded matrix (missing
numeric values take the median; a missing category is its own value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FeatureSelection:
    """Features ranked by importance, and those that could be dropped, with the reason."""

    ranked: tuple[dict[str, object], ...]
    drop_candidates: tuple[dict[str, str], ...]


def association_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return the pairwise association of ``columns`` (a symmetric frame, 1 on the diagonal)."""
    numeric = {c for c in columns if pd.api.types.is_numeric_dtype(frame[c])}
    matrix = pd.DataFrame(np.eye(len(columns)), index=list(columns), columns=list(columns))
    for i, a in enumerate(columns):
        for b in columns[i + 1 :]:
            value = _association(frame[a], frame[b], a in numeric, b in numeric)
            matrix.loc[a, b] = matrix.loc[b, a] = value
    return matrix


def _association(a: pd.Series, b: pd.Series, a_numeric: bool, b_numeric: bool) -> float:
    pair = pd.DataFrame({"a": a, "b": b}).dropna()
    if len(pair) < 3:
        return float("nan")
    if a_numeric and b_numeric:
        value = pair["a"].corr(pair["b"], method="spearman")
    elif a_numeric or b_numeric:
        num, cat = (pair["a"], pair["b"]) if a_numeric else (pair["b"], pair["a"])
        value = _correlation_ratio(cat.astype(str), num.astype(float))
    else:
        value = _cramers_v(pair["a"].astype(str), pair["b"].astype(str))
    return float(value) if np.isfinite(value) else float("nan")


def _correlation_ratio(categories: pd.Series, values: pd.Series) -> float:
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return float("nan")
    grouped = values.groupby(categories.to_numpy())
    between = float((grouped.count() * (grouped.mean() - values.mean()) ** 2).sum())
    return float(np.sqrt(between / total))


def _cramers_v(a: pd.Series, b: pd.Series) -> float:
    from scipy.stats import chi2_contingency

    table = pd.crosstab(a.to_numpy(), b.to_numpy())
    if min(table.shape) < 2:
        return float("nan")
    chi2 = float(chi2_contingency(table, correction=False)[0])
    return float(np.sqrt(chi2 / table.to_numpy().sum() / (min(table.shape) - 1)))


def mutual_information(
    matrix: np.ndarray,
    labels: np.ndarray,
    *,
    names: Sequence[str],
    categorical: Sequence[bool],
    seed: int = 0,
    continuous: bool = False,
) -> dict[str, float]:
    """Return the mutual information (nats) of each encoded feature with the label.

    ``continuous``: the label is a value (regression), not class codes.
    """
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    filled = matrix.copy()
    for j, is_categorical in enumerate(categorical):
        column = filled[:, j]
        missing = np.isnan(column)
        if is_categorical:
            column[missing] = np.nanmax(column) + 1 if (~missing).any() else 0
        else:
            column[missing] = np.nanmedian(column) if (~missing).any() else 0
    estimate = mutual_info_regression if continuous else mutual_info_classif
    scores = estimate(filled, labels, discrete_features=np.asarray(categorical), random_state=seed)
    return {name: float(v) for name, v in zip(names, scores, strict=True)}


def select_features(
    importance: Mapping[str, float],
    information: Mapping[str, float],
    association: pd.DataFrame,
    *,
    threshold: float = 0.9,
    min_importance: float = 0.0,
) -> FeatureSelection:
    """Rank features by importance and name the ones worth dropping.

    A feature is a drop candidate when its permutation importance is at most
    ``min_importance``, or when its association with a more important
    feature is at least ``threshold`` in absolute value.
    """
    ranked_names = sorted(importance, key=lambda n: (-importance[n], n))
    ranked: tuple[dict[str, object], ...] = tuple(
        {
            "rank": i + 1,
            "feature": n,
            "importance": importance[n],
            "mutual_information": information.get(n),
        }
        for i, n in enumerate(ranked_names)
    )
    drops: list[dict[str, str]] = []
    for i, name in enumerate(ranked_names):
        if importance[name] <= min_importance:
            drops.append(
                {
                    "feature": name,
                    "reason": f"permutation importance {importance[name]:.4f} <= {min_importance}",
                }
            )
            continue
        for better in ranked_names[:i]:
            value = (
                association.loc[name, better]
                if name in association.index and better in association.columns
                else np.nan
            )
            if np.isfinite(value) and abs(value) >= threshold:
                drops.append(
                    {
                        "feature": name,
                        "reason": f"association {value:.2f} with more important '{better}'",
                    }
                )
                break
    return FeatureSelection(ranked, tuple(drops))
