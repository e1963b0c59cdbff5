"""The surrogate decision tree: readable rules with category sets, and one row's path."""

from __future__ import annotations

import numpy as np

from mlops_gitops.explain.decision import fit_surrogate, node_labels
from mlops_gitops.explain.explained_model import FeatureSpace, FeatureSpec

SPACE = FeatureSpace(
    (
        FeatureSpec(name="debt_to_income", kind="numeric", low=0, high=1),
        FeatureSpec(name="housing", kind="categorical", categories=("own", "mortgage", "rent")),
    )
)


def decisions_of(matrix: np.ndarray) -> np.ndarray:
    """A model that declines renters with a debt-to-income ratio above 0.5."""
    return ((matrix[:, 0] > 0.5) & (matrix[:, 1] == 2)).astype(int)


def test_surrogate_recovers_the_rules_of_a_simple_model():
    rng = np.random.default_rng(0)
    matrix = np.column_stack([rng.random(400), rng.integers(0, 3, 400).astype(float)])
    surrogate = fit_surrogate(
        SPACE, matrix, decisions_of(matrix), test=(matrix, decisions_of(matrix))
    )
    assert surrogate.fidelity == 1.0
    assert "housing in {rent}" in surrogate.rules and "debt_to_income > 0.5" in surrogate.rules
    assert len(node_labels(surrogate)) == surrogate.tree.tree_.node_count
    steps, share = surrogate.path(np.array([0.8, 2.0]))
    assert share == 1.0
    assert {s.feature for s in steps} == {"debt_to_income", "housing"}
    assert any(s.condition == "housing in {rent}" and s.value == "rent" for s in steps)
