"""The sklearn family's unsupervised estimators: ``kmeans`` and ``isolation_forest``.

``kmeans`` fits ``clustering``, ``isolation_forest`` fits ``anomaly``.
Each has its own ``model.sklearn`` keys (:class:`KMeansParams`,
:class:`IsolationForestParams`) and fits only its task
(:data:`UNSUPERVISED_ESTIMATORS`); the label, if any, is never fitted. The
pipeline is saved as the family's ``model.joblib``. k-means sees imputed,
standardised numbers and one-hot categories (distances need one scale);
its scores are the distances to the centres. The isolation forest sees
imputed numbers; its score is minus ``decision_function`` (higher = more
anomalous, flagged above 0). The ONNX graph is skl2onnx's, with its outputs
renamed and mapped to the tasks' contracts (``label``/``distances``;
``label`` 1 = anomaly and ``scores``). The validation metrics go to the
dvclive summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.contract import Feature
from mlops_gitops.errors import ConfigError
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import DEFAULT_THRESHOLD, load_task, needs_points, score
from mlops_gitops.training.families import TrainingData, TrainingError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    from sklearn.base import BaseEstimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

SECTION = "model.sklearn"


Share = Annotated[float, Field(gt=0, le=0.5)]
Count = Annotated[int, Field(ge=1)]


class KMeansParams(BaseModel):
    """``model.sklearn`` with ``estimator: kmeans``."""

    model_config = ConfigDict(extra="forbid")

    estimator: Literal["kmeans"] = "kmeans"
    n_clusters: int = Field(8, ge=2)
    init: Literal["k-means++", "random"] = "k-means++"
    n_init: int = Field(10, ge=1)
    max_iter: int = Field(300, ge=1)
    tol: float = Field(1e-4, ge=0)


class IsolationForestParams(BaseModel):
    """``model.sklearn`` with ``estimator: isolation_forest``."""

    model_config = ConfigDict(extra="forbid")

    estimator: Literal["isolation_forest"] = "isolation_forest"
    n_estimators: int = Field(100, ge=1)
    # The expected share of anomalies (it sets the cut at 0); auto: scikit-learn's fixed offset.
    contamination: Literal["auto"] | Share = "auto"
    max_samples: Literal["auto"] | Count = "auto"
    max_features: float = Field(1.0, gt=0, le=1)
    bootstrap: bool = False


def _kmeans(
    settings: Mapping[str, object], seed: int, data: TrainingData
) -> tuple[str, BaseEstimator, ColumnTransformer]:
    from sklearn.cluster import KMeans

    from mlops_gitops.training.preprocessing import network_preprocessor

    params = parse_section(KMeansParams, settings, SECTION)
    if params.n_clusters > len(data.train):
        raise TrainingError(
            f"params.yaml {SECTION}.n_clusters: {params.n_clusters} clusters need at least as "
            f"many training rows (found {len(data.train)}); lower n_clusters"
        )
    clusterer = KMeans(**params.model_dump(exclude={"estimator"}), random_state=seed)
    return "clusterer", clusterer, network_preprocessor(data.features)


def _isolation_forest(
    settings: Mapping[str, object], seed: int, data: TrainingData
) -> tuple[str, BaseEstimator, ColumnTransformer]:
    from sklearn.ensemble import IsolationForest

    from mlops_gitops.training.preprocessing import imputed_tree_preprocessor

    params = parse_section(IsolationForestParams, settings, SECTION)
    detector = IsolationForest(**params.model_dump(exclude={"estimator"}), random_state=seed)
    return "detector", detector, imputed_tree_preprocessor(data.features)


# (settings, seed, data) -> (pipeline step name, unfitted estimator, unfitted preprocessing)
Build = Callable[
    [Mapping[str, object], int, TrainingData], "tuple[str, BaseEstimator, ColumnTransformer]"
]


@dataclass(frozen=True)
class UnsupervisedEstimator:
    """One unsupervised estimator: the one task it fits and how to build it."""

    task: str
    params: type[BaseModel]
    build: Build


UNSUPERVISED_ESTIMATORS = {
    "kmeans": UnsupervisedEstimator("clustering", KMeansParams, _kmeans),
    "isolation_forest": UnsupervisedEstimator("anomaly", IsolationForestParams, _isolation_forest),
}
# task -> the estimator chosen when model.sklearn.estimator is not set
DEFAULT_ESTIMATORS = {spec.task: name for name, spec in UNSUPERVISED_ESTIMATORS.items()}
UNSUPERVISED_TASKS = tuple(DEFAULT_ESTIMATORS)


def is_unsupervised(settings: Mapping[str, object], task: str) -> bool:
    """Return whether ``task`` or the chosen estimator belongs to this module."""
    return task in DEFAULT_ESTIMATORS or settings.get("estimator") in UNSUPERVISED_ESTIMATORS


class UnsupervisedModel:
    """A fitted k-means or isolation-forest pipeline over the raw feature columns."""

    def __init__(self, pipeline: Pipeline, features: Sequence[Feature]) -> None:
        self.pipeline = pipeline
        self.features = tuple(features)

    def _columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[[f.name for f in self.features]]

    def _is_clusterer(self) -> bool:
        return hasattr(self.pipeline.steps[-1][1], "cluster_centers_")

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``[N, K]`` distances to the centres, or ``[N]`` anomaly scores."""
        import numpy as np

        if self._is_clusterer():
            return np.asarray(self.pipeline.transform(self._columns(frame)), dtype=np.float64)
        return -np.asarray(self.pipeline.decision_function(self._columns(frame)), np.float64)

    def embed(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the rows in the preprocessed space the estimator measures distances in."""
        import numpy as np

        return np.asarray(self.pipeline[:-1].transform(self._columns(frame)), dtype=np.float64)

    def save(self, folder: Path) -> None:
        """Write ``model.joblib``."""
        import joblib

        from mlops_gitops.training.sklearn_family import MODEL_FILE

        joblib.dump(self.pipeline, folder / MODEL_FILE)

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Convert with skl2onnx, then give the graph the task's outputs."""
        from mlops_gitops.training import isolation_forest_onnx
        from mlops_gitops.training.preprocessing import sklearn_to_onnx

        isolation_forest_onnx.register()
        proto = sklearn_to_onnx(self.pipeline, self.features, opset=opset)
        if self._is_clusterer():
            _rename_outputs(proto, {"label": "label", "scores": "distances"})
        else:
            _anomaly_outputs(proto)
        return proto


def unsupervised_model(pipeline: Pipeline, features: Sequence[Feature]) -> UnsupervisedModel | None:
    """Return ``pipeline`` as an :class:`UnsupervisedModel` when its estimator is one of ours."""
    final = pipeline.steps[-1][1]
    is_ours = hasattr(final, "cluster_centers_") or hasattr(final, "offset_")
    return UnsupervisedModel(pipeline, features) if is_ours else None


def check_unsupervised(settings: Mapping[str, object], task: str) -> UnsupervisedEstimator:
    """Return the estimator ``settings`` names (or the task's default) once its keys are valid.

    Raises:
        ConfigError: the estimator does not fit ``task``, or a key is invalid.
    """
    name = str(settings.get("estimator") or DEFAULT_ESTIMATORS.get(task, ""))
    spec = UNSUPERVISED_ESTIMATORS.get(name)
    if spec is None or spec.task != task:
        fits = DEFAULT_ESTIMATORS.get(task)
        raise ConfigError(
            f"params.yaml {SECTION}.estimator: {name} does not fit task {task}; "
            + (f"use {fits}" if fits else f"{name} fits {spec.task if spec else 'no task'}")
        )
    parse_section(spec.params, settings, SECTION)
    return spec


def fit_unsupervised(
    data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
) -> UnsupervisedModel:
    """Fit the estimator ``settings`` names (or the task's default) on the train features.

    Raises:
        ConfigError: the estimator does not fit ``data.task``, or a key is invalid.
        TrainingError: k-means has more clusters than training rows.
    """
    from sklearn.pipeline import Pipeline

    spec = check_unsupervised(settings, data.task)
    step, estimator, preprocess = spec.build(settings, seed, data)
    preprocess.fit(data.train)
    estimator.fit(preprocess.transform(data.train))
    model = UnsupervisedModel(
        Pipeline([("preprocess", preprocess), (step, estimator)]), data.features
    )
    _log_summary(model, data, live_dir)
    return model


def _log_summary(model: UnsupervisedModel, data: TrainingData, live_dir: Path) -> None:
    """Write the validation metrics (and k-means' inertia) to the dvclive summary."""
    import math

    from dvclive.live import Live

    task = load_task(data.task)
    scores = task.decision_scores(model.predict(data.valid))
    points = model.embed(data.valid) if needs_points(task) else None
    values = score(task, data.valid_label, scores, threshold=DEFAULT_THRESHOLD, points=points)
    final = model.pipeline.steps[-1][1]
    summary = {"inertia": float(final.inertia_)} if hasattr(final, "inertia_") else {}
    with Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None) as live:
        live.summary.update(summary)
        live.summary.setdefault("valid", {}).update(
            {name: value for name, value in values.items() if not math.isnan(value)}
        )


def _rename_outputs(proto: onnx.ModelProto, names: Mapping[str, str]) -> None:
    """Rename graph outputs (where nodes produce and read them) by ``names``, old -> new."""
    for node in proto.graph.node:
        node.output[:] = [names.get(name, name) for name in node.output]
        node.input[:] = [names.get(name, name) for name in node.input]
    for output in proto.graph.output:
        output.name = names.get(output.name, output.name)


def _anomaly_outputs(proto: onnx.ModelProto) -> None:
    """Map the isolation forest's ``label`` (-1/1 [N, 1]) and ``scores`` to the contract.

    ``label`` becomes 1 where scikit-learn said -1 (an outlier), as ``int64 [N]``;
    ``scores`` becomes minus the decision function, so higher is more anomalous.
    """
    from onnx import TensorProto, helper

    graph = proto.graph
    _rename_outputs(proto, {"label": "inlier_label", "scores": "decision_function"})
    graph.initializer.extend(
        [
            helper.make_tensor("zero_label", TensorProto.INT64, [], [0]),
            helper.make_tensor("flat_shape", TensorProto.INT64, [1], [-1]),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Less", ["inlier_label", "zero_label"], ["is_outlier"]),
            helper.make_node("Cast", ["is_outlier"], ["outlier_code"], to=TensorProto.INT64),
            helper.make_node("Reshape", ["outlier_code", "flat_shape"], ["label"]),
            helper.make_node("Neg", ["decision_function"], ["scores"]),
        ]
    )
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, 1]),
        ]
    )
