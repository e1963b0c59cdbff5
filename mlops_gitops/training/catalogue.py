"""The estimator catalogue of the ``sklearn`` family: what ``model.sklearn.estimator`` may name.

One row (:class:`Estimator`) per estimator says which tasks it fits
(classification and regression, clustering, anomaly detection), how
its hyper-parameters are validated and built (its own pydantic model of
``model.sklearn``), which preprocessor feeds it inside the pipeline, and
what skl2onnx needs registered to convert it. Add an estimator by adding a
row to :data:`CATALOGUE`: the family, the params check (with its one
refusal message) and the ONNX equivalence tests all read the table; a
task's default estimator is the first row that fits it. Nothing heavy is imported here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from mlops_gitops.errors import ConfigError
from mlops_gitops.params import parse_section
from mlops_gitops.training import boosting_estimators, sklearn_estimators
from mlops_gitops.training.estimator import Estimator, EstimatorParams, Fitting

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer

    from mlops_gitops.contract import Feature
    from mlops_gitops.training.families import TrainingData

WHERE = "model.sklearn"

SUPERVISED = ("binary", "multiclass", "regression")


def _converted_by_onnxmltools(
    params: type[EstimatorParams], package: str, register: Callable[[], None]
) -> Estimator:
    # A boosting library in the pipeline: its module is the package's name without "-cpu".
    module = package.removesuffix("-cpu")
    return Estimator(
        tasks=SUPERVISED,
        params=params,
        requires=(module, "onnxmltools"),
        install=f"{package} onnxmltools",
        register=register,
    )


CATALOGUE: dict[str, Estimator] = {
    "hist_gradient_boosting": Estimator(
        tasks=SUPERVISED,
        params=sklearn_estimators.HistGradientBoostingParams,
    ),
    "logistic_regression": Estimator(
        tasks=("binary", "multiclass"),
        params=sklearn_estimators.LogisticRegressionParams,
        preprocessor="scaled",
    ),
    "linear_regression": Estimator(
        tasks=("regression",),
        params=sklearn_estimators.LinearRegressionParams,
        preprocessor="scaled",
    ),
    "random_forest": Estimator(
        tasks=SUPERVISED,
        params=sklearn_estimators.RandomForestParams,
        preprocessor="imputed",
    ),
    "extra_trees": Estimator(
        tasks=SUPERVISED,
        params=sklearn_estimators.ExtraTreesParams,
        preprocessor="imputed",
    ),
    "xgboost": _converted_by_onnxmltools(
        boosting_estimators.XGBoostParams, "xgboost-cpu", boosting_estimators.register_xgboost
    ),
    "lightgbm": _converted_by_onnxmltools(
        boosting_estimators.LightGBMParams, "lightgbm", boosting_estimators.register_lightgbm
    ),
    "kmeans": Estimator(
        tasks=("clustering",),
        params=sklearn_estimators.KMeansParams,
        preprocessor="scaled",  # distances need one scale
    ),
    "isolation_forest": Estimator(
        tasks=("anomaly",),
        params=sklearn_estimators.IsolationForestParams,
        preprocessor="imputed",
    ),
}


def catalogue_tasks() -> tuple[str, ...]:
    """Return every task some estimator of the catalogue fits, in first-declared order."""
    return tuple(dict.fromkeys(t for row in CATALOGUE.values() for t in row.tasks))


def default_estimator(task: str) -> str:
    """Return the estimator used when ``model.sklearn.estimator`` is not set: the first that fits.

    Raises:
        ConfigError: no row of the catalogue fits ``task``.
    """
    for name, row in CATALOGUE.items():
        if task in row.tasks:
            return name
    raise ConfigError(
        f"params.yaml {WHERE}.estimator: no estimator fits task {task}; "
        f"the catalogue fits {', '.join(catalogue_tasks())}"
    )


def parse_estimator(settings: Mapping[str, object], task: str) -> EstimatorParams:
    """Return ``model.sklearn`` validated for its estimator, after checking it fits ``task``.

    Without ``estimator``, the task's :func:`default_estimator` is used.

    Raises:
        ConfigError: one line naming ``model.sklearn.estimator`` (unknown, not
            fitting the task, or not installed) or the first invalid key.
    """
    name = settings.get("estimator") or default_estimator(task)
    row = CATALOGUE.get(name) if isinstance(name, str) else None
    if row is None:
        raise ConfigError(
            f"params.yaml {WHERE}.estimator: unknown estimator {name!r}; "
            f"known: {', '.join(CATALOGUE)}"
        )
    if task not in row.tasks:
        fitting = [n for n, r in CATALOGUE.items() if task in r.tasks]
        raise ConfigError(
            f"params.yaml {WHERE}.estimator: {name} fits {', '.join(row.tasks)}, not {task}; "
            f"for {task} choose one of {', '.join(fitting)}"
        )
    missing = [m for m in row.requires if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"params.yaml {WHERE}.estimator: {name} needs {', '.join(missing)}, not installed; "
            f"run 'pip install {row.install}'"
        )
    return parse_section(row.params, {"estimator": name, **settings}, WHERE)


def make_preprocessor(name: str, features: Sequence[Feature]) -> ColumnTransformer:
    """Return the unfitted preprocessor of the estimator ``name`` over ``features``."""
    from mlops_gitops.training import preprocessing

    kind = CATALOGUE[name].preprocessor
    if kind == "scaled":
        return preprocessing.network_preprocessor(features)
    if kind == "imputed":
        return preprocessing.imputed_tree_preprocessor(features)
    return preprocessing.tree_preprocessor(features)


def register_converters(estimator: object) -> None:
    """Register the skl2onnx converter of ``estimator`` when its row needs one."""
    package = type(estimator).__module__.partition(".")[0]
    for row in CATALOGUE.values():
        if row.register is not None and package in row.requires:
            row.register()


def fitting(data: TrainingData, preprocess: ColumnTransformer) -> tuple[Fitting, Fitting]:
    """Return the preprocessed train and valid sets with their labels."""
    return (
        (preprocess.transform(data.train), data.train_label),
        (preprocess.transform(data.valid), data.valid_label),
    )
