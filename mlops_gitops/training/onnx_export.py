"""Export the trained model to ONNX and prove the graph computes the same thing.

The graph takes one ``[N, 1]`` input per raw feature column, named as the
column (numeric: ``tensor(float)``, NaN when missing; categorical:
``tensor(string)``, ``""`` when missing) and has exactly the outputs of the
model's task (``Task.outputs``): ``label`` (``int64 [N]``) and
``probabilities`` (``float [N, K]``) for classification, ``prediction``
(``float [N, 1]``) for regression, ``label`` and ``distances`` (``float
[N, K]``) for clustering, ``label`` (1 = anomaly) and ``scores`` (``float
[N, 1]``) for anomaly. Its ``metadata_props`` carry the model
name, family, task, class names, features, label and the training data
hash. The ONNX Runtime scores (the last output) are compared with the
framework model on the test set; the largest absolute difference is
recorded in ``metrics/export.json`` and a difference above
``export.tolerance`` fails the stage without writing ``models/model.onnx``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_gitops import __version__
from mlops_gitops.contract import Feature
from mlops_gitops.outputs import write_json
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import Task, load_task
from mlops_gitops.training.artifact import ModelMeta, TrainedModel, load_trained_model
from mlops_gitops.training.families import TrainingError
from mlops_gitops.training.features import onnx_feed, read_frame
from mlops_gitops.training.settings import ExportSection

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd

log = logging.getLogger(__name__)

MISSING_VALUES_NOTE = 'numeric: NaN; categorical: "" (the empty string)'


class ExportError(TrainingError):
    """The ONNX graph could not be built or does not reproduce the model."""


@dataclass(frozen=True)
class EquivalenceCheck:
    """How closely ONNX Runtime reproduces the framework model on a data set."""

    max_abs_diff: float
    # None when the task's graph has no label output (regression).
    label_agreement: float | None
    rows: int

    def as_metrics(self) -> dict[str, float | int]:
        """Return the content of ``metrics/export.json``."""
        agreement = (
            {} if self.label_agreement is None else {"onnx_label_agreement": self.label_agreement}
        )
        return {"onnx_max_abs_diff": self.max_abs_diff, **agreement, "rows": self.rows}


def export_model(
    *,
    trained: str | os.PathLike[str],
    test: str | os.PathLike[str],
    model: str | os.PathLike[str],
    metrics: str | os.PathLike[str],
    settings: Mapping[str, object],
) -> EquivalenceCheck:
    """Export ``trained`` to the ONNX file ``model`` after checking it on ``test``.

    Raises:
        ConfigError: the ``export`` section is invalid.
        ExportError: the graph breaks the contract or differs from the model by
            more than ``export.tolerance`` (then no ONNX file is left behind).
    """

    params = parse_section(ExportSection, settings, "export")
    target = Path(model)
    target.unlink(missing_ok=True)
    loaded = load_trained_model(trained)
    proto = build_onnx(loaded, opset=params.opset)
    check = check_equivalence(proto, loaded, read_frame(test))
    write_json(metrics, check.as_metrics())
    if not check.max_abs_diff <= params.tolerance:
        raise ExportError(
            f"ONNX {proto.graph.output[-1].name} differ from the {loaded.meta.family} model by "
            f"{check.max_abs_diff:.3g} on {check.rows} test rows, above export.tolerance "
            f"{params.tolerance:g}; {target} was not written"
        )
    _write_bytes(target, proto.SerializeToString())
    log.info(
        "wrote %s (%s)", target, ", ".join(f"{k} {v:.4g}" for k, v in check.as_metrics().items())
    )
    return check


def build_onnx(loaded: TrainedModel, *, opset: int) -> onnx.ModelProto:
    """Return the model's ONNX graph, checked against the contract, with metadata."""
    import onnx

    try:
        proto = loaded.model.to_onnx(opset=opset)
        onnx.checker.check_model(proto)
    except (RuntimeError, ValueError, TypeError, onnx.checker.ValidationError) as exc:
        raise ExportError(f"the {loaded.meta.family} model cannot be converted to ONNX") from exc
    check_contract(proto, loaded.meta.features, load_task(loaded.meta.task))
    _set_metadata(proto, loaded.meta, opset)
    return proto


def check_contract(proto: onnx.ModelProto, features: list[Feature], task: Task) -> None:
    """Check the graph has one ``[N, 1]`` input per feature and the outputs of ``task``.

    Raises:
        ExportError: naming the first input or output that breaks the contract.
    """
    from onnx import TensorProto

    inputs = {i.name: i.type.tensor_type for i in proto.graph.input}
    for feature in features:
        expected = TensorProto.FLOAT if feature.kind == "numeric" else TensorProto.STRING
        tensor = inputs.pop(feature.name, None)
        if tensor is None or tensor.elem_type != expected or len(tensor.shape.dim) != 2:
            raise ExportError(
                f"ONNX input '{feature.name}': expected {TensorProto.DataType.Name(expected)} "
                "[N, 1] named as the column"
            )
    if inputs:
        raise ExportError(f"ONNX inputs {sorted(inputs)} are not features of the model")
    types = {"int64": TensorProto.INT64, "float": TensorProto.FLOAT}
    outputs = [(o.name, o.type.tensor_type.elem_type) for o in proto.graph.output]
    if outputs != [(o.name, types[o.type]) for o in task.outputs]:
        wanted = " and ".join(f"{o.name} ({o.type} {o.shape})" for o in task.outputs)
        raise ExportError(
            f"ONNX outputs {[name for name, _ in outputs]}: expected exactly {wanted} "
            f"(task {task.name})"
        )


def _set_metadata(proto: onnx.ModelProto, meta: ModelMeta, opset: int) -> None:
    features = [f.model_dump(mode="json", exclude_none=True) for f in meta.features]
    props = {
        "model_name": meta.name,
        "family": meta.family,
        "task": meta.task,
        "classes": json.dumps(meta.classes or [], separators=(",", ":")),
        "features": json.dumps(features, separators=(",", ":")),
        "label": meta.label or "",
        "positive_class": str(meta.positive_class),
        **({"threshold": repr(meta.threshold)} if meta.threshold is not None else {}),
        **({"threshold_criterion": meta.threshold_criterion} if meta.threshold_criterion else {}),
        "missing_category": meta.missing_category,
        "missing_values": MISSING_VALUES_NOTE,
        "train_data_md5": meta.train_data_md5 or "",
        "opset": str(opset),
    }
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "mlops-gitops"
    proto.producer_version = __version__
    proto.doc_string = f"{meta.name}: {meta.family} model; inputs are the raw feature columns"


def run_onnx(
    proto: onnx.ModelProto, frame: pd.DataFrame, features: list[Feature]
) -> list[npt.NDArray[np.generic]]:
    """Run the graph on ``frame`` with ONNX Runtime; return its outputs in order.

    ``[label, probabilities]`` for classification, ``[prediction]`` for regression.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs: list[npt.NDArray[np.generic]] = session.run(None, onnx_feed(frame, features))
    return outputs


def check_equivalence(
    proto: onnx.ModelProto, loaded: TrainedModel, frame: pd.DataFrame
) -> EquivalenceCheck:
    """Compare ONNX Runtime with the framework model on ``frame``.

    Raises:
        ExportError: ``frame`` has no rows.
    """
    import numpy as np

    if len(frame) == 0:
        raise ExportError("the test set has no rows; the ONNX graph cannot be checked")
    outputs = run_onnx(proto, frame, loaded.meta.features)
    expected = loaded.predict(frame)
    scores = outputs[-1].astype(np.float64).reshape(expected.shape)
    diff = float(np.max(np.abs(scores - expected)))
    agreement = load_task(loaded.meta.task).agreement(outputs, expected)
    return EquivalenceCheck(
        max_abs_diff=diff if math.isfinite(diff) else math.inf,
        label_agreement=agreement,
        rows=len(frame),
    )


def _write_bytes(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    try:
        staging.write_bytes(content)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
