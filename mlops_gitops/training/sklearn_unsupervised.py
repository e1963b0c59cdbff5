"""The sklearn family's fitted unsupervised models: ``kmeans`` and ``isolation_forest``.

Both are rows of :data:`mlops_gitops.training.catalogue.CATALOGUE` (their
keys, task and preprocessor live there, like every other estimator's);
this module holds what differs once they are fitted. k-means' scores are
the distances to the centres; the isolation forest's score is minus
``decision_function`` (higher = more anomalous, flagged above 0). The ONNX
graph is skl2onnx's, with its outputs renamed and mapped to the tasks'
contracts (``label``/``distances``; ``label`` 1 = anomaly and ``scores``).
The validation metrics (and k-means' inertia) go to the dvclive summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops.contract import Feature
from mlops_gitops.tasks import DEFAULT_THRESHOLD, load_task, needs_points, score
from mlops_gitops.training.families import TrainingData

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    from sklearn.pipeline import Pipeline


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


def log_summary(model: UnsupervisedModel, data: TrainingData, live_dir: Path) -> None:
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
