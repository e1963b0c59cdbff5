"""Importance: permutation importance on the ONNX model, and comparing two versions."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_gitops.explain.explained_model import ExplainError, load_tabular_model
from mlops_gitops.explain.importance import compare_importance, permutation_importance


def test_compare_importance_gives_deltas_and_ranks_per_feature():
    rows = compare_importance({"a": 0.1, "b": 0.3, "gone": 0.05}, {"a": 0.4, "b": 0.2, "new": 0.01})
    assert [r["feature"] for r in rows] == ["a", "b", "new", "gone"]
    assert rows[0] == {
        "feature": "a",
        "base": 0.1,
        "head": 0.4,
        "delta": pytest.approx(0.3),
        "base_rank": 2,
        "head_rank": 1,
    }
    assert rows[2]["base"] is None and rows[3]["head"] is None and rows[3]["delta"] is None


@pytest.mark.slow
def test_permutation_importance_finds_what_the_onnx_model_uses(tree_model):
    model = load_tabular_model(tree_model.onnx, tree_model.train, trained_dir=tree_model.trained)
    rows = tree_model.train
    matrix = model.space.encode(rows)
    importance = permutation_importance(model, matrix, rows["default"].to_numpy(), n_repeats=3)
    assert importance.baseline > 0.7
    # the model saw only these features: shuffling one it splits on hurts, the rest do nothing
    assert importance.mean[importance.ranked()[0]] > 0.01
    assert set(importance.mean) == set(model.space.names)
    assert "sex" not in importance.mean


@pytest.mark.slow
def test_permutation_importance_needs_both_classes(tree_model):
    model = load_tabular_model(tree_model.onnx, tree_model.train, trained_dir=tree_model.trained)
    matrix = model.space.encode(tree_model.test.head(5))
    with pytest.raises(ExplainError, match="needs both classes"):
        permutation_importance(model, matrix, np.zeros(5, dtype=int))
