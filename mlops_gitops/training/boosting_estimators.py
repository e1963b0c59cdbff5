"""XGBoost and LightGBM in the catalogue: their ``model.sklearn`` keys, builders and converters.

Both run as the last step of the family's scikit-learn pipeline, so the
preprocessing stays inside the one ONNX graph; skl2onnx converts them with
onnxmltools' converters, registered (:func:`register_xgboost`,
:func:`register_lightgbm`) just before a conversion. ``xgboost`` and
``lightgbm`` are imported only when such a model is built or converted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from mlops_gitops.training.estimator import EstimatorParams

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

CLASSIFICATION = frozenset({"binary", "multiclass"})
# The options skl2onnx may pass a classifier converter: no class-label map (zipmap).
_CLASSIFIER_OPTIONS = {"nocl": [True, False], "zipmap": [True, False, "columns"]}


class _BoostingParams(EstimatorParams):
    n_estimators: int = Field(200, ge=1)
    learning_rate: float = Field(0.1, gt=0)
    subsample: float = Field(1.0, gt=0, le=1)  # rows sampled per tree
    colsample_bytree: float = Field(1.0, gt=0, le=1)  # features sampled per tree
    reg_lambda: float = Field(1.0, ge=0)  # L2 on leaf weights
    reg_alpha: float = Field(0.0, ge=0)  # L1 on leaf weights


class XGBoostParams(_BoostingParams):
    """``estimator: xgboost``: XGBoost's histogram gradient boosting (``xgboost-cpu``)."""

    estimator: Literal["xgboost"] = "xgboost"
    max_depth: int = Field(6, ge=1)
    min_child_weight: float = Field(1.0, ge=0)

    def build(self, task: str, seed: int) -> BaseEstimator:
        import xgboost

        kind = "XGBClassifier" if task in CLASSIFICATION else "XGBRegressor"
        model: BaseEstimator = getattr(xgboost, kind)(
            **self.model_dump(exclude={"estimator"}), tree_method="hist", random_state=seed
        )
        return model


class LightGBMParams(_BoostingParams):
    """``estimator: lightgbm``: LightGBM's leaf-wise gradient boosting."""

    estimator: Literal["lightgbm"] = "lightgbm"
    reg_lambda: float = Field(0.0, ge=0)
    num_leaves: int = Field(31, ge=2)
    max_depth: int = Field(-1, ge=-1)  # -1: no limit besides num_leaves
    min_child_samples: int = Field(20, ge=1)

    def build(self, task: str, seed: int) -> BaseEstimator:
        import lightgbm

        kind = "LGBMClassifier" if task in CLASSIFICATION else "LGBMRegressor"
        # subsample only applies when bagging runs (subsample_freq > 0).
        bagging = {"subsample_freq": 1} if self.subsample < 1 else {}
        model: BaseEstimator = getattr(lightgbm, kind)(
            **self.model_dump(exclude={"estimator"}), **bagging, random_state=seed, verbose=-1
        )
        return model


def register_xgboost() -> None:
    """Teach skl2onnx to convert ``XGBClassifier`` and ``XGBRegressor`` with onnxmltools."""
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from xgboost import XGBClassifier, XGBRegressor

    _register((XGBClassifier, XGBRegressor), "XGBoostXGB", convert_xgboost)


def register_lightgbm() -> None:
    """Teach skl2onnx to convert ``LGBMClassifier`` and ``LGBMRegressor`` with onnxmltools."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm

    # split: the converter's own option for regressors (None keeps one tree ensemble).
    _register((LGBMClassifier, LGBMRegressor), "LightGbmLGBM", convert_lightgbm, {"split": None})


def _register(
    classes: tuple[type, type],
    alias: str,
    converter: Callable[..., None],
    regressor_options: dict[str, object] | None = None,
) -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    classifier, regressor = classes
    update_registered_converter(
        classifier, f"{alias}Classifier", calculate_linear_classifier_output_shapes, converter,
        options=_CLASSIFIER_OPTIONS,
    )  # fmt: skip
    update_registered_converter(
        regressor, f"{alias}Regressor", calculate_linear_regressor_output_shapes, converter,
        options=regressor_options,
    )  # fmt: skip
