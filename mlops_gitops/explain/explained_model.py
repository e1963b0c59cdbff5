"""The model under explanation: an ONNX session, its feature space, the native model if known.

Every explanation runs through the exported ONNX model (the model contract
of :mod:`mlops_gitops.contract`: one input per raw feature column, the
outputs of the model's task), so it holds for every framework. What is
explained follows the task read from the contract: the probability of the
positive class (binary), the probability of each class (multiclass), or the
predicted value (regression).
Explainers that need a numeric matrix (kernel SHAP, LIME) see the features
through :class:`FeatureSpace`: numeric columns as they are, categorical
columns as category codes, missing values as NaN. The feature
space also carries the feasible values (ranges and categories) that
counterfactuals respect. Reads ``models/model.onnx`` and, when given,
``models/trained/meta.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops_gitops import contract
from mlops_gitops.contract import (
    MISSING_CATEGORY,
    Feature,
    FeatureFacts,
    FeatureKind,
    ModelContract,
)
from mlops_gitops.errors import MlopsError
from mlops_gitops.tasks import (
    DEFAULT_TASK,
    DEFAULT_THRESHOLD,
    Explains,
    Task,
    explained_output,
    explained_scores,
    load_task,
)

if TYPE_CHECKING:
    import onnxruntime


class ExplainError(MlopsError):
    """A model, row or dataset cannot be explained."""


class FeatureSpec(FeatureFacts):
    """One raw feature of the contract and its feasible values (range or categories)."""

    low: float = math.nan
    high: float = math.nan
    scale: float = 1.0
    integer: bool = False
    allowed: tuple[float, ...] = ()

    def value_of(self, code: float) -> object:
        """Return the raw value of an encoded matrix value (a category code becomes its name)."""
        if math.isnan(code):
            return None
        if self.kind == "numeric":
            return float(code)
        return self.categories[round(code)]


@dataclass(frozen=True)
class FeatureSpace:
    """The model's raw features in input order, with a numeric-matrix codec."""

    features: tuple[FeatureSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Return the feature names in model input order."""
        return tuple(f.name for f in self.features)

    def spec(self, name: str) -> FeatureSpec:
        """Return the spec of feature ``name``."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise ExplainError(f"'{name}' is not a feature of the model ({', '.join(self.names)})")

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Return ``frame`` as a float matrix: category codes, NaN for missing or unknown."""
        columns = []
        for spec in self.features:
            if spec.kind == "numeric":
                columns.append(pd.to_numeric(frame[spec.name]).to_numpy(float, na_value=np.nan))
            else:
                codes = pd.Categorical(frame[spec.name], categories=list(spec.categories)).codes
                columns.append(np.where(codes < 0, np.nan, codes.astype(float)))
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        """Return a frame of raw values for an encoded ``matrix`` (inverse of :meth:`encode`)."""
        data: dict[str, object] = {}
        for j, spec in enumerate(self.features):
            if spec.kind == "numeric":
                data[spec.name] = matrix[:, j].astype(float)
            else:
                data[spec.name] = pd.Series(_lookup(spec, matrix[:, j]), dtype="object")
        return pd.DataFrame(data)


def build_space(
    reference: pd.DataFrame,
    kinds: Mapping[str, FeatureKind],
    *,
    categories: Mapping[str, Sequence[str]] | None = None,
    rules: Mapping[str, Mapping[str, object]] | None = None,
) -> FeatureSpace:
    """Derive the feasible values of each feature from reference data and the data schema.

    Numeric features take their range from ``reference`` (min to max),
    narrowed by the schema's ``min``/``max`` and restricted to its ``allowed``
    values (``rules`` is ``schema.columns`` of params); their scale is the
    interquartile range (or the range when that is zero), and a feature that
    holds whole numbers only stays whole. Categorical features take
    ``categories`` (the trained model's), else the schema's ``allowed``
    values, else the values seen in ``reference``.

    Raises:
        ExplainError: ``reference`` lacks a feature.
    """
    missing = [name for name in kinds if name not in reference.columns]
    if missing:
        raise ExplainError(f"reference data lacks the model's features: {', '.join(missing)}")
    specs = []
    for name, kind in kinds.items():
        rule = (rules or {}).get(name) or {}
        if kind == "categorical":
            known = _categories_of(reference[name], categories, name, rule)
            specs.append(FeatureSpec(feature=Feature(name=name, kind=kind, categories=known)))
        else:
            specs.append(
                _numeric_spec(name, pd.to_numeric(reference[name]).dropna().to_numpy(float), rule)
            )
    return FeatureSpace(tuple(specs))


def _categories_of(
    column: pd.Series,
    categories: Mapping[str, Sequence[str]] | None,
    name: str,
    rule: Mapping[str, object],
) -> list[str]:
    known = (categories or {}).get(name)
    if known:
        return [str(c) for c in known]
    allowed = rule.get("allowed")
    if isinstance(allowed, list) and allowed:
        return [str(c) for c in allowed]
    return sorted(str(v) for v in column.dropna().unique() if str(v) != MISSING_CATEGORY)


def _numeric_spec(name: str, values: np.ndarray, rule: Mapping[str, object]) -> FeatureSpec:
    feature = Feature(name=name, kind="numeric")
    if values.size == 0:
        return FeatureSpec(feature=feature)
    low, high = float(values.min()), float(values.max())
    if isinstance(rule.get("min"), int | float):
        low = max(low, float(rule["min"]))  # type: ignore[arg-type]  # checked just above
    if isinstance(rule.get("max"), int | float):
        high = min(high, float(rule["max"]))  # type: ignore[arg-type]  # checked just above
    q1, q3 = np.percentile(values, [25, 75])
    scale = float(q3 - q1) or (high - low) or 1.0
    integer = bool(np.all(values == np.round(values)))
    allowed = rule.get("allowed")
    choices = (
        tuple(float(v) for v in allowed if isinstance(v, int | float))
        if isinstance(allowed, list)
        else ()
    )
    return FeatureSpec(
        feature=feature,
        low=low,
        high=high,
        scale=scale,
        integer=integer,
        allowed=choices,
    )


def _default_task() -> Task:
    return load_task(DEFAULT_TASK)


@dataclass(frozen=True, kw_only=True)
class TabularModel:
    """A model of the ONNX contract, ready to score frames and encoded matrices.

    Its scores are the task's decision scores: ``[N]`` probabilities of the
    positive class (binary), ``[N, K]`` class probabilities in the order of
    ``classes`` (multiclass), or ``[N]`` predicted values (regression).
    """

    path: Path
    session: onnxruntime.InferenceSession = field(repr=False, compare=False)
    space: FeatureSpace
    onnx_types: Mapping[str, str]
    family: str = "unknown"
    native: object | None = field(default=None, repr=False, compare=False)
    task: Task = field(default_factory=_default_task, compare=False)
    # Class names in code order (classification) and the label column, from the contract.
    classes: tuple[str, ...] = ()
    label: str = ""
    # The binary decision threshold recorded at export (None: not recorded).
    threshold: float | None = None

    @property
    def explains(self) -> Explains:
        """Return what the scores are: ``positive``, ``classes`` or ``value``."""
        return explained_output(self.task)

    def decision_threshold(self, configured: object = None) -> float:
        """Return the binary threshold: the recorded one, else ``configured`` when a number.

        ``evaluate.threshold: auto`` (or nothing) without a recorded threshold
        gives :data:`mlops_gitops.tasks.DEFAULT_THRESHOLD`.
        """
        if self.threshold is not None:
            return self.threshold
        if isinstance(configured, int | float) and not isinstance(configured, bool):
            return float(configured)
        return DEFAULT_THRESHOLD

    def decide(self, scores: np.ndarray, *, threshold: float) -> np.ndarray:
        """Return the task's decisions on ``scores``: 0/1, class codes, or the values."""
        return np.asarray(self.task.decide(scores, threshold=threshold))

    def explained(self, scores: np.ndarray) -> np.ndarray:
        """Return what attributions explain from decision ``scores`` (the task's ``explained``).

        The scores themselves for every task but those that reduce them to one
        number per row (a clustering: the distance to the assigned centre).
        """
        return np.asarray(explained_scores(self.task, scores))

    def explain_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Return what attributions explain for each row of an encoded matrix."""
        return self.explained(self.predict_matrix(matrix))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the scores of each row of ``frame`` (binary: the positive probability)."""
        feeds: dict[str, np.ndarray] = {}
        for spec in self.space.features:
            column = frame[spec.name]
            if spec.kind == "numeric":
                values = pd.to_numeric(column).to_numpy(self._dtype(spec.name), na_value=np.nan)
            else:
                values = column.astype(object).where(column.notna(), MISSING_CATEGORY).to_numpy()
            feeds[spec.name] = values.reshape(-1, 1)
        return self._run(feeds)

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Return the scores of each row of an encoded matrix (binary: the positive probability)."""
        matrix = np.atleast_2d(np.asarray(matrix, dtype=float))
        feeds: dict[str, np.ndarray] = {}
        for j, spec in enumerate(self.space.features):
            if spec.kind == "numeric":
                feeds[spec.name] = matrix[:, j].astype(self._dtype(spec.name)).reshape(-1, 1)
            else:
                raw = _lookup(spec, matrix[:, j])
                feeds[spec.name] = np.where(raw == None, MISSING_CATEGORY, raw).reshape(-1, 1)  # noqa: E711  # elementwise
        return self._run(feeds)

    def _dtype(self, name: str) -> type[np.floating]:
        return np.float64 if self.onnx_types[name] == "tensor(double)" else np.float32

    def _run(self, feeds: Mapping[str, np.ndarray]) -> np.ndarray:
        output = self.task.outputs[-1].name
        if not feeds or next(iter(feeds.values())).shape[0] == 0:
            empty = (0, len(self.classes)) if self.explains == "classes" else (0,)
            return np.empty(empty)
        predicted = self.session.run([output], dict(feeds))[0]
        return np.asarray(self.task.decision_scores(np.asarray(predicted, dtype=float)))


def _lookup(spec: FeatureSpec, codes: np.ndarray) -> np.ndarray:
    table = np.array([*spec.categories, None], dtype=object)
    index = np.where(np.isnan(codes), len(spec.categories), np.round(codes)).astype(np.int64)
    return table[np.clip(index, 0, len(spec.categories))]


def read_onnx_inputs(session: onnxruntime.InferenceSession, path: Path) -> ModelContract:
    """Return the model's contract, checking it has the one-input-per-column inputs and scores."""
    model = contract.read_contract(session, what=str(path), error=ExplainError)
    scores = model.load_task().outputs[-1].name
    if scores not in model.outputs:
        raise ExplainError(f"{path}: the {model.task} model has no '{scores}' output; re-export it")
    return model


def open_session(path: Path) -> onnxruntime.InferenceSession:
    """Open ``path`` in ONNX Runtime on the CPU."""
    return contract.open_session(path, error=ExplainError)


def load_tabular_model(
    path: str | Path,
    reference: pd.DataFrame,
    *,
    trained_dir: str | Path | None = None,
    rules: Mapping[str, Mapping[str, object]] | None = None,
) -> TabularModel:
    """Open an ONNX model and derive its feature space from ``reference`` data.

    Args:
        path: the ONNX file of the contract.
        reference: rows that set feasible ranges and categories (the training split).
        trained_dir: the trained-model folder of the same version; its
            ``meta.json`` gives the family and categories, and a scikit-learn
            model in it enables exact tree explanations.
        rules: ``schema.columns`` of params, which narrows the feasible values.
    """
    onnx_path = Path(path)
    session = open_session(onnx_path)
    model = read_onnx_inputs(session, onnx_path)
    if trained_dir is not None:
        family, categories, native = _read_trained(Path(trained_dir))
    else:
        family, categories, native = model.family, model.categories, None
    space = build_space(reference, model.kinds, categories=categories, rules=rules)
    return TabularModel(
        path=onnx_path,
        session=session,
        space=space,
        onnx_types=model.input_types,
        family=family,
        native=native,
        task=model.load_task(),
        classes=model.classes,
        label=model.label,
        threshold=model.threshold,
    )


def _read_trained(folder: Path) -> tuple[str, dict[str, list[str]], object | None]:
    """Return the family, the categories and (for scikit-learn) the fitted pipeline."""
    from mlops_gitops.training import TrainingError, read_meta
    from mlops_gitops.training import load_trained_model as load_trained

    try:
        meta = read_meta(folder)
        categories = {f.name: list(f.categories) for f in meta.features if f.categories is not None}
        # Only the sklearn family has a native model the explainers use (shap's
        # TreeExplainer); loading a network would import torch for nothing.
        native = load_trained(folder).model.pipeline if meta.family == "sklearn" else None  # type: ignore[attr-defined]  # SklearnModel
    except TrainingError as exc:
        raise ExplainError(f"{folder}: cannot read the trained model") from exc
    return meta.family, categories, native
