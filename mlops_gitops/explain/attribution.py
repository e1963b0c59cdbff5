"""Feature attributions of single predictions, and SHAP values (the built-in ``shap`` explainer).

A tree model whose native estimator shap can read (scikit-learn tree
ensembles) is explained exactly with ``shap.TreeExplainer`` in its raw
output (log-odds; per class for multiclass; the value for regression);
every other model is explained with kernel SHAP over the ONNX model's
scores (:class:`TabularModel`), on the encoded feature matrix of
:class:`FeatureSpace`. Both are additive: the base value plus the
contributions equals the explained output, per class for a multiclass
model. ``shap`` is imported only when values are computed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from mlops_gitops.explain.explained_model import ExplainError, TabularModel
from mlops_gitops.tasks import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from mlops_gitops.explain.settings import ExplainSettings

log = logging.getLogger(__name__)

OutputSpace = Literal["log-odds", "probability", "value"]
# scikit-learn estimators that shap's TreeExplainer reads exactly.
TREE_ESTIMATORS = frozenset(
    {
        "HistGradientBoostingClassifier",
        "GradientBoostingClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
        "HistGradientBoostingRegressor",
        "GradientBoostingRegressor",
        "RandomForestRegressor",
        "ExtraTreesRegressor",
        "DecisionTreeRegressor",
    }
)


@dataclass(frozen=True, kw_only=True)
class Attributions:
    """Per-row feature contributions to one model output.

    ``base_values[i] + values[i].sum()`` equals ``output[i]`` for additive
    methods (SHAP); for LIME it equals the local surrogate's prediction.
    With ``classes`` (a multiclass model) ``values`` is ``[N, F, K]`` and
    ``base_values`` and ``output`` are ``[N, K]``, one slice per class, and
    ``decided`` holds each row's predicted class code: a single decision is
    explained by its predicted class (:meth:`top`, :meth:`for_decisions`).
    """

    method: str
    features: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    base_values: np.ndarray = field(repr=False)
    output: np.ndarray = field(repr=False)
    output_space: OutputSpace
    data: pd.DataFrame = field(repr=False)
    classes: tuple[str, ...] = ()
    decided: np.ndarray | None = field(default=None, repr=False)

    def mean_abs(self) -> dict[str, float]:
        """Return the mean absolute contribution of each feature (over rows and classes)."""
        flat = self.values if not self.classes else self.values.transpose(0, 2, 1)
        flat = flat.reshape(-1, len(self.features))
        means = np.abs(flat).mean(axis=0) if len(flat) else np.zeros(len(self.features))
        return {name: float(v) for name, v in zip(self.features, means, strict=True)}

    def mean_abs_by_class(self) -> dict[str, dict[str, float]]:
        """Return the mean absolute contribution of each feature per class name (multiclass)."""
        return {name: self.for_class(name).mean_abs() for name in self.classes}

    def for_class(self, name: str) -> Attributions:
        """Return the attributions of one class's output (multiclass)."""
        k = self.classes.index(name)
        return replace(
            self, values=self.values[:, :, k], base_values=self.base_values[:, k],
            output=self.output[:, k], classes=(), decided=None,
        )  # fmt: skip

    def for_decisions(self) -> Attributions:
        """Return each row's attributions of its predicted class (itself when single-output)."""
        if not self.classes or self.decided is None:
            return self
        rows = np.arange(len(self.values))
        k = self.decided.astype(np.int64)
        return replace(
            self, values=self.values[rows, :, k], base_values=self.base_values[rows, k],
            output=self.output[rows, k], classes=(), decided=None,
        )  # fmt: skip

    def explained_class(self, row: int) -> str | None:
        """Return the class whose output row ``row``'s decision is explained by (multiclass)."""
        if not self.classes or self.decided is None:
            return None
        return self.classes[int(self.decided[row])]

    def top(self, row: int, count: int) -> list[tuple[str, object, float]]:
        """Return ``(feature, value, contribution)`` of row ``row``, largest first."""
        values = self.for_decisions().values
        order = np.argsort(-np.abs(values[row]), kind="stable")[:count]
        record = self.data.iloc[row]
        return [
            (self.features[j], _plain(record[self.features[j]]), float(values[row, j]))
            for j in order
        ]


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def tree_estimator(model: TabularModel) -> object | None:
    """Return the native tree estimator that shap reads exactly, or None."""
    native = model.native
    if native is None:
        return None
    final = native.steps[-1][1] if hasattr(native, "steps") else native
    return final if type(final).__name__ in TREE_ESTIMATORS else None


class ShapExplainer:
    """SHAP values: exact for tree models, kernel SHAP over ONNX otherwise."""

    name = "shap"

    def attribute(
        self,
        model: TabularModel,
        rows: pd.DataFrame,
        *,
        background: pd.DataFrame,
        settings: ExplainSettings,
    ) -> Attributions:
        """Return SHAP values of ``rows``."""
        if tree_estimator(model) is not None:
            return tree_shap(model, rows)
        return kernel_shap(
            model, rows, background=background, nsamples=settings.shap.nsamples, seed=settings.seed
        )


def tree_shap(model: TabularModel, rows: pd.DataFrame) -> Attributions:
    """Return exact tree SHAP values in the raw output, summed back onto the raw features.

    Binary: the positive class's log-odds; multiclass: each class's raw score
    (softmax logits); regression: the predicted value.

    Raises:
        ExplainError: the model has no native tree estimator.
    """
    estimator = tree_estimator(model)
    if estimator is None:
        raise ExplainError(f"{model.path}: no native tree model to explain exactly")
    import shap

    from mlops_gitops.contract import Feature
    from mlops_gitops.training.features import feature_frame

    native = model.native
    prep = native[:-1] if hasattr(native, "steps") and len(native.steps) > 1 else None  # type: ignore[index]  # a Pipeline
    frame = rows[list(model.space.names)]
    features = [
        Feature(name=f.name, kind=f.kind, categories=list(f.categories) or None)
        for f in model.space.features
    ]
    # the form the framework model was trained on: float32 numbers, "" for a missing category
    prepared = feature_frame(frame, features)
    matrix = prep.transform(prepared) if prep is not None else prepared
    names = list(prep.get_feature_names_out()) if prep is not None else list(model.space.names)
    explanation = shap.TreeExplainer(estimator)(np.asarray(matrix, dtype=float))
    values = np.asarray(explanation.values, dtype=float)
    base = np.asarray(explanation.base_values, dtype=float)
    return _tree_attributions(model, values, base, names=names, frame=frame)


def _tree_attributions(
    model: TabularModel,
    values: np.ndarray,
    base: np.ndarray,
    *,
    names: list[str],
    frame: pd.DataFrame,
) -> Attributions:
    if model.explains == "classes":
        raw = np.stack(
            [sum_onto_features(values[:, :, k], names, model.space.names)
             for k in range(values.shape[2])], axis=2,
        )  # fmt: skip
        return per_class_attributions(
            model, raw, base, raw.sum(axis=1) + base, frame=frame, space="log-odds"
        )
    if values.ndim == 3:  # one slice per class: keep the positive class
        values, base = values[:, :, -1], base[:, -1]
    base = base.reshape(-1)
    raw = sum_onto_features(values, names, model.space.names)
    return Attributions(
        method="shap",
        features=model.space.names,
        values=raw,
        base_values=base,
        output=base + raw.sum(axis=1),
        output_space="value" if model.explains == "value" else "log-odds",
        data=frame.reset_index(drop=True),
    )


def per_class_attributions(
    model: TabularModel,
    values: np.ndarray,
    base: np.ndarray,
    output: np.ndarray,
    *,
    frame: pd.DataFrame,
    space: OutputSpace,
    method: str = "shap",
) -> Attributions:
    """Return multiclass attributions (``values`` ``[N, F, K]``) with each row's decided class."""
    rows = frame[list(model.space.names)].reset_index(drop=True)
    # the arg-max decision has no threshold
    scores = model.predict_proba(rows)
    decided = model.decide(scores, threshold=DEFAULT_THRESHOLD) if len(rows) else None
    return Attributions(
        method=method, features=model.space.names, values=values, base_values=base,
        output=output, output_space=space, data=rows, classes=model.classes, decided=decided,
    )  # fmt: skip


def sum_onto_features(values: np.ndarray, names: list[str], raw: tuple[str, ...]) -> np.ndarray:
    """Add the columns a preprocessor made from one raw feature back together."""
    out = np.zeros((values.shape[0], len(raw)))
    by_length = sorted(range(len(raw)), key=lambda j: -len(raw[j]))
    for k, name in enumerate(names):
        owner = next((j for j in by_length if _derived_from(name, raw[j])), None)
        if owner is None:
            raise ExplainError(
                f"cannot tell which raw feature the model column '{name}' comes from"
            )
        out[:, owner] += values[:, k]
    return out


def _derived_from(column: str, feature: str) -> bool:
    tail = column.split("__", 1)[-1]
    return tail == feature or tail.startswith(f"{feature}_")


def kernel_shap(
    model: TabularModel,
    rows: pd.DataFrame,
    *,
    background: pd.DataFrame,
    nsamples: int,
    seed: int = 0,
) -> Attributions:
    """Return kernel SHAP values of the ONNX model's scores (model-agnostic)."""
    import shap

    space = model.space
    matrix = space.encode(rows)
    reference = space.encode(background)
    explainer = shap.KernelExplainer(model.explain_matrix, reference)
    with seeded_numpy(seed):  # kernel SHAP samples coalitions from numpy's global generator
        raw = explainer.shap_values(matrix, nsamples=nsamples, l1_reg=False, silent=True)
    values = np.asarray(raw, dtype=float)
    output = model.explain_matrix(matrix)
    if model.explains == "classes":
        if values.ndim == 3 and values.shape[0] != len(matrix):  # older shap: a list per class
            values = values.transpose(1, 2, 0)
        base = np.tile(np.ravel(explainer.expected_value).astype(float), (len(matrix), 1))
        return per_class_attributions(model, values, base, output, frame=rows, space="probability")
    if values.ndim == 3:
        values = values[:, :, -1]
    base = np.full(len(matrix), float(np.ravel(explainer.expected_value)[-1]))
    frame = rows[list(space.names)].reset_index(drop=True)
    return Attributions(
        method="shap",
        features=space.names,
        values=values,
        base_values=base,
        output=output,
        output_space="value" if model.explains == "value" else "probability",
        data=frame,
    )


@contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for a block and restore its state afterwards."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)
