"""LIME: local linear surrogates of the ONNX model around single rows (the ``lime`` explainer).

LIME perturbs a row on the encoded feature matrix, scores the perturbations
with the ONNX model and fits a weighted linear model; the weights are the
row's attributions: of the positive class (binary), of each class
(multiclass), or of the predicted value (regression, LIME's regression
mode). LIME cannot perturb a missing value, so missing values are replaced
by the background's median (numeric) or most frequent category before a
row is explained. ``lime`` is imported only when rows are explained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops_gitops.explain.attribution import Attributions, per_class_attributions
from mlops_gitops.explain.explained_model import ExplainError, TabularModel

if TYPE_CHECKING:
    from mlops_gitops.explain.settings import ExplainSettings


class LimeExplainer:
    """LIME tabular explanations of the model's scores (per class for multiclass)."""

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
    explains = model.explains
    explainer = LimeTabularExplainer(
        _impute(reference, fill),
        mode="regression" if explains == "value" else "classification",
        feature_names=list(space.names),
        categorical_features=categorical,
        categorical_names={j: list(space.features[j].categories) for j in categorical},
        class_names=list(model.classes) if explains == "classes" else ["negative", "positive"],
        random_state=seed,
        discretize_continuous=True,
    )
    matrix = _impute(space.encode(rows), fill)
    values, base, local = _explain_rows(
        model, explainer, matrix, num_features=num_features, num_samples=num_samples
    )
    frame = rows[list(space.names)].reset_index(drop=True)
    if explains == "classes":
        return per_class_attributions(
            model, values, base, local, frame=frame, space="probability", method="lime"
        )
    return Attributions(
        method="lime", features=space.names, values=values[:, :, 0], base_values=base[:, 0],
        output=local[:, 0], output_space="value" if explains == "value" else "probability",
        data=frame,
    )  # fmt: skip


def _explain_rows(
    model: TabularModel,
    explainer: object,
    matrix: np.ndarray,
    *,
    num_features: int,
    num_samples: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return LIME's weights ``[N, F, L]``, intercepts and local predictions ``[N, L]``."""
    explains = model.explains
    labels = tuple(range(len(model.classes))) if explains == "classes" else (1,)
    values = np.zeros((*matrix.shape, len(labels)))
    base = np.zeros((len(matrix), len(labels)))
    local = np.zeros((len(matrix), len(labels)))
    for i, row in enumerate(matrix):
        explanation = explainer.explain_instance(  # type: ignore[attr-defined]  # lime
            row, _scorer(model), labels=labels, num_features=num_features,
            num_samples=num_samples,
        )  # fmt: skip
        for k, label in enumerate(labels):
            key = 0 if explains == "value" else label  # the regression mode's one output
            for j, weight in explanation.as_map()[key]:
                values[i, j, k] = weight
            base[i, k] = float(explanation.intercept[key])
            # LIME keeps the last label's local prediction only; on the row itself every
            # interpretable feature is 1, so each label's is its intercept plus weights.
            local[i, k] = (
                base[i, k] + values[i, :, k].sum()
                if explains == "classes"
                else float(np.ravel(explanation.local_pred)[0])
            )
    return values, base, local


def _scorer(model: TabularModel) -> Callable[[np.ndarray], np.ndarray]:
    """Return what LIME scores: class columns (binary: both), or the values (regression)."""

    def score(batch: np.ndarray) -> np.ndarray:
        scores = model.explain_matrix(batch)
        if model.explains == "positive":
            return np.column_stack([1 - scores, scores])
        return scores

    return score


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
