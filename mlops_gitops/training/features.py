"""Features in training: which raw columns are features, of what kind, in what form.

The feature itself and the missing-value tokens are the model contract's
(:mod:`mlops_gitops.contract`). A feature is numeric (float64 in frames,
``tensor(float)`` in ONNX) or categorical (strings; ``tensor(string)`` in
ONNX). Kinds are inferred from the dtypes of the training frame. A missing
categorical value is the empty string :data:`MISSING_CATEGORY` everywhere:
in the framework model, in the ONNX graph and for serving clients. A
missing numeric value is NaN.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.contract import MISSING_CATEGORY, Feature, check_feature_name
from mlops_gitops.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd


def infer_features(
    frame: pd.DataFrame, *, exclude: Collection[str], origin: str = "the training data"
) -> list[Feature]:
    """Return the features of ``frame``: every column not in ``exclude``, kind from its dtype.

    Raises:
        DataError: a column has a dtype that is neither numeric nor text, or a
            name that cannot be a model input (:func:`mlops_gitops.contract.check_feature_name`).
    """
    import pandas as pd

    features: list[Feature] = []
    for name in frame.columns:
        if name in exclude:
            continue
        check_feature_name(str(name), where=origin, error=DataError)
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            features.append(Feature(name=str(name), kind="numeric"))
        elif _is_text(column):
            values = {str(v) for v in column.dropna().unique()} - {MISSING_CATEGORY}
            features.append(Feature(name=str(name), kind="categorical", categories=sorted(values)))
        else:
            raise DataError(
                f"column '{name}': dtype {column.dtype} is neither numeric nor text; "
                "convert it in prepare or add it to model.features.exclude"
            )
    return features


def _is_text(column: pd.Series) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_string_dtype(column)
        or pd.api.types.is_object_dtype(column)
        or isinstance(column.dtype, pd.CategoricalDtype)
    )


def feature_frame(frame: pd.DataFrame, features: Sequence[Feature]) -> pd.DataFrame:
    """Return the feature columns of ``frame`` in the form every model family sees.

    Numeric columns become float64 holding float32 values (what the ONNX
    graph receives, so both compute on the same numbers); categorical
    columns become strings with :data:`MISSING_CATEGORY` for missing values.

    Raises:
        DataError: a feature column is absent or a numeric column holds text.
    """
    import pandas as pd

    _check_columns(frame, features)
    columns: dict[str, pd.Series] = {}
    for feature in features:
        column = frame[feature.name]
        if feature.kind == "numeric":
            columns[feature.name] = _numeric(column, feature.name)
        else:
            text = column.astype(object).where(column.notna(), MISSING_CATEGORY)
            columns[feature.name] = text.astype(str)
    return pd.DataFrame(columns, index=frame.index)


def _numeric(column: pd.Series, name: str) -> pd.Series:
    import numpy as np
    import pandas as pd

    try:
        values = pd.to_numeric(column).astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"column '{name}': expected numbers, got {column.dtype}") from exc
    return values.astype(np.float32).astype(np.float64)


def _check_columns(frame: pd.DataFrame, features: Sequence[Feature]) -> None:
    missing = [f.name for f in features if f.name not in frame.columns]
    if missing:
        raise DataError(
            f"feature columns missing from the data: {', '.join(missing)}; "
            "the model was trained with them"
        )


def onnx_feed(
    frame: pd.DataFrame, features: Sequence[Feature]
) -> dict[str, npt.NDArray[np.generic]]:
    """Return the ONNX Runtime inputs for ``frame``: one ``[N, 1]`` array per feature.

    Numeric features are float32, categorical features are object arrays of str.
    """
    import numpy as np

    prepared = feature_frame(frame, features)
    feed: dict[str, npt.NDArray[np.generic]] = {}
    for feature in features:
        column = prepared[feature.name]
        if feature.kind == "numeric":
            feed[feature.name] = column.to_numpy(np.float32).reshape(-1, 1)
        else:
            feed[feature.name] = np.asarray(column.tolist(), dtype=object).reshape(-1, 1)
    return feed


def split_kinds(features: Sequence[Feature]) -> tuple[list[str], list[str]]:
    """Return the names of the numeric and of the categorical features, in order."""
    numeric = [f.name for f in features if f.kind == "numeric"]
    categorical = [f.name for f in features if f.kind == "categorical"]
    return numeric, categorical


def read_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a prepared Parquet (or CSV) file, naming it on error.

    Raises:
        DataError: the file is missing or cannot be read.
    """
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise DataError(f"{source}: not found; run the stages before this one (dvc repro)")
    try:
        if source.suffix == ".csv":
            return pd.read_csv(source)
        return pd.read_parquet(source)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{source}: cannot be read as {source.suffix.lstrip('.') or 'parquet'}"
        ) from exc


def label_array(frame: pd.DataFrame, label: str, *, origin: str) -> npt.NDArray[np.int64]:
    """Return the 0/1 label column of ``frame`` as int64 (the ``binary`` task's check).

    Raises:
        DataError: the column is absent, has missing values or other values than 0 and 1.
    """
    from mlops_gitops.tasks import encode_labels
    from mlops_gitops.tasks.binary import CLASSES, BinaryTask

    labels = encode_labels(BinaryTask(), frame, label, origin=origin, classes=CLASSES)
    result: npt.NDArray[np.int64] = labels.values.astype("int64")
    return result
