"""SHAP values are additive: base value plus contributions equals the model output."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_gitops.explain.attribution import kernel_shap, tree_estimator, tree_shap
from mlops_gitops.explain.explained_model import load_tabular_model

pytestmark = pytest.mark.slow


def test_tree_shap_adds_up_to_the_onnx_log_odds(tree_model):
    model = load_tabular_model(tree_model.onnx, tree_model.train, trained_dir=tree_model.trained)
    assert model.family == "sklearn" and tree_estimator(model) is not None
    rows = tree_model.test.head(40)
    attributions = tree_shap(model, rows)
    probability = model.predict_proba(rows)
    total = attributions.base_values + attributions.values.sum(axis=1)
    np.testing.assert_allclose(total, np.log(probability / (1 - probability)), atol=1e-4)
    assert attributions.values.shape == (40, len(model.space.names))
    assert "sex" not in attributions.features


def test_kernel_shap_of_a_network_adds_up_to_the_onnx_probability(network_model):
    model = load_tabular_model(
        network_model.onnx, network_model.train, trained_dir=network_model.trained
    )
    assert model.family == "lightning" and tree_estimator(model) is None
    rows = network_model.test.head(5)
    attributions = kernel_shap(model, rows, background=network_model.train.head(20), nsamples=200)
    total = attributions.base_values + attributions.values.sum(axis=1)
    np.testing.assert_allclose(total, model.predict_proba(rows), atol=1e-5)
    assert attributions.output_space == "probability"
