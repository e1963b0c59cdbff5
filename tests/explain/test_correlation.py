"""Association between features of every kind, mutual information and the selection report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.explain.correlation import association_matrix, mutual_information, select_features


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    group = np.where(x > 0, "high", "low")
    return pd.DataFrame(
        {
            "x": x,
            "x_copy": 2 * x + 1,
            "noise": rng.normal(size=300),
            "group": group,
            "group_copy": np.where(group == "high", "h", "l"),
            "coin": rng.choice(["a", "b"], 300),
        }
    )


def test_association_uses_the_measure_of_each_pair_of_kinds(frame):
    matrix = association_matrix(frame, list(frame.columns))
    assert matrix.loc["x", "x_copy"] == pytest.approx(1.0)  # Spearman
    assert matrix.loc["group", "group_copy"] == pytest.approx(1.0)  # Cramér's V
    assert matrix.loc["x", "group"] > 0.7  # correlation ratio
    assert abs(matrix.loc["x", "noise"]) < 0.2 and matrix.loc["coin", "group"] < 0.2
    assert (matrix.to_numpy() == matrix.to_numpy().T).all()


def test_mutual_information_ranks_the_informative_feature_first(frame):
    labels = (frame["x"] > 0).astype(int).to_numpy()
    matrix = np.column_stack([frame["x"], frame["noise"]])
    info = mutual_information(matrix, labels, names=["x", "noise"], categorical=[False, False])
    assert info["x"] > 0.5 > info["noise"]


def test_selection_names_useless_and_redundant_features(frame):
    matrix = association_matrix(frame, ["x", "x_copy", "noise"])
    selection = select_features(
        {"x": 0.3, "x_copy": 0.1, "noise": -0.01}, {"x": 0.6}, matrix, threshold=0.9
    )
    assert [r["feature"] for r in selection.ranked] == ["x", "x_copy", "noise"]
    reasons = {d["feature"]: d["reason"] for d in selection.drop_candidates}
    assert reasons["x_copy"].startswith("association 1.00 with more important 'x'")
    assert reasons["noise"].startswith("permutation importance -0.0100 <= 0.0")
    assert "x" not in reasons
