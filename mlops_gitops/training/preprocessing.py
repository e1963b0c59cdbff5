"""The scikit-learn preprocessing of the raw feature columns, and its ONNX form.

Both families turn raw columns into a numeric matrix with a
``ColumnTransformer`` that skl2onnx can convert, so the exported graph
takes raw columns: categorical columns are one-hot encoded over the
training categories plus the missing token (unknown values become all
zeros); numeric columns pass through for trees that route NaN themselves,
are imputed with the median for trees that do not once in ONNX, or are
imputed and standardised for networks and linear models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.contract import MISSING_CATEGORY, Feature
from mlops_gitops.training.features import split_kinds

if TYPE_CHECKING:
    import onnx
    from sklearn.base import BaseEstimator
    from sklearn.compose import ColumnTransformer

# The ai.onnx.ml domain version paired with every default-domain opset we target.
ONNX_ML_OPSET = 3


def tree_preprocessor(features: Sequence[Feature]) -> ColumnTransformer:
    """Return an unfitted transformer for tree ensembles: numbers as they are, one-hot text."""
    numeric, _ = split_kinds(features)
    return _column_transformer(features, ("passthrough" if numeric else None))


def imputed_tree_preprocessor(features: Sequence[Feature]) -> ColumnTransformer:
    """Return an unfitted transformer for forests: median-imputed numbers, one-hot text.

    skl2onnx's decision-tree converter drops the branch scikit-learn learned for
    missing values, so a forest must never see NaN for its graph to agree with it.
    """
    from sklearn.impute import SimpleImputer

    return _column_transformer(features, SimpleImputer(strategy="median"))


def network_preprocessor(features: Sequence[Feature]) -> ColumnTransformer:
    """Return an unfitted transformer for networks and linear models: scaled numbers, one-hot text.

    Numbers are imputed with the median, then standardised.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    return _column_transformer(features, numeric)


def _column_transformer(
    features: Sequence[Feature], numeric_step: BaseEstimator | str | None
) -> ColumnTransformer:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    numeric, categorical = split_kinds(features)
    steps: list[tuple[str, BaseEstimator | str, list[str]]] = []
    if numeric and numeric_step is not None:
        steps.append(("numeric", numeric_step, numeric))
    if categorical:
        categories = [_categories(f) for f in features if f.kind == "categorical"]
        encoder = OneHotEncoder(
            categories=categories, handle_unknown="ignore", sparse_output=False, dtype=float
        )
        steps.append(("categorical", encoder, categorical))
    return ColumnTransformer(steps, remainder="drop", verbose_feature_names_out=False)


def _categories(feature: Feature) -> list[str]:
    return [*(feature.categories or []), MISSING_CATEGORY]


def sklearn_to_onnx(
    estimator: BaseEstimator,
    features: Sequence[Feature],
    *,
    opset: int,
    options: Mapping[int, Mapping[str, object]] | None = None,
    output_width: int | None = None,
    output: str = "features",
) -> onnx.ModelProto:
    """Convert a fitted estimator that reads the raw feature columns to ONNX at ``opset``.

    ``output_width`` gives the graph a single float output of that width named
    ``output`` (``features`` for a transformer whose output feeds a network).
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [
        (f.name, FloatTensorType([None, 1]) if f.kind == "numeric" else StringTensorType([None, 1]))
        for f in features
    ]
    final = None if output_width is None else [(output, FloatTensorType([None, output_width]))]
    model = convert_sklearn(
        estimator,
        initial_types=inputs,
        target_opset={"": opset, "ai.onnx.ml": ONNX_ML_OPSET},
        options=dict(options or {}),
        final_types=final,
    )
    return pin_opset(model, opset)


def pin_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """Return ``model`` with its default-domain opset exactly ``opset``.

    skl2onnx picks the lowest opset that holds its operators; the version
    converter lifts it so every exported graph declares the configured opset.
    """
    from onnx import version_converter

    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), opset)
    if current == opset:
        return model
    return version_converter.convert_version(model, opset)
