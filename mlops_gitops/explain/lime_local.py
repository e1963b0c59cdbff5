"""LIME: local linear surrogates of the ONNX model around single rows (the ``lime`` explainer).

LIME perturbs a row on the encoded feature matrix, scores the perturbations
with the ONNX model and fits a weighted linear model; the weights are the
row's attributions. LIME cannot perturb a missing value, so missing values
are replaced by the background's median (numeric) or most frequent category
before a row is explained. ``lime`` is imported only when rows are explained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops_gitops.explain.attribution import Attributions
from mlops_gitops.explain.explained_model import ExplainError, TabularModel

if TYPE_CHECKING:
    from mlops_gitops.explain.settings import ExplainSettings


class LimeExplainer:
    """LIME tabular explanations of the positive-class probability."""

    name = "lime"

    def attribute(
        self,
        model: TabularModel,
        rows: pd.DataFrame,
        *,
        background: pd.DataFrame,
        settings: ExplainSettings,
    ) -> Attributions:
        """Return LIME weights of ``rows``."""
        return lime_attributions(
            model,
            rows,
            background=background,
            num_samples=settings.lime.num_samples,
            num_features=settings.lime.num_features,
            seed=settings.seed,
        )


def lime_attributions(
    model: TabularModel,
    rows: pd.DataFrame,
    *,
    background: pd.DataFrame,
    num_samples: int = 1000,
    num_features: int = 8,
    seed: int = 0,
) -> Attributions:
    """Return one LIME explanation per row: intercept plus weights is the surrogate's output."""
    from lime.lime_tabular import LimeTabularExplainer

    space = model.space
    reference = space.encode(background)
    fill = _fill_values(space.names, reference, [f.kind for f in space.features])
    categorical = [j for j, f in enumerate(space.features) if f.kind == "categorical"]
    explainer = LimeTabularExplainer(
        _impute(reference, fill),
        feature_names=list(space.names),
        categorical_features=categorical,
        categorical_names={j: list(space.features[j].categories) for j in categorical},
        class_names=["negative", "positive"],
        random_state=seed,
        discretize_continuous=True,
    )
    matrix = _impute(space.encode(rows), fill)
    values = np.zeros(matrix.shape)
    base = np.zeros(len(matrix))
    local = np.zeros(len(matrix))

    def classify(batch: np.ndarray) -> np.ndarray:
        positive = model.predict_matrix(batch)
        return np.column_stack([1 - positive, positive])

    for i, row in enumerate(matrix):
        explanation = explainer.explain_instance(
            row, classify, labels=(1,), num_features=num_features, num_samples=num_samples
        )
        for j, weight in explanation.as_map()[1]:
            values[i, j] = weight
        base[i] = float(explanation.intercept[1])
        local[i] = float(np.ravel(explanation.local_pred)[0])
    frame = rows[list(space.names)].reset_index(drop=True)
    return Attributions(
        method="lime", features=space.names, values=values, base_values=base, output=local,
        output_space="probability", data=frame,
    )  # fmt: skip


def _fill_values(names: tuple[str, ...], matrix: np.ndarray, kinds: list[str]) -> np.ndarray:
    fill = np.zeros(matrix.shape[1])
    for j, kind in enumerate(kinds):
        column = matrix[:, j][~np.isnan(matrix[:, j])]
        if column.size == 0:
            raise ExplainError(f"feature '{names[j]}' has no values in the background sample")
        if kind == "numeric":
            fill[j] = float(np.median(column))
        else:
            codes, counts = np.unique(column, return_counts=True)
            fill[j] = float(codes[np.argmax(counts)])
    return fill


def _impute(matrix: np.ndarray, fill: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(matrix), fill, matrix)
