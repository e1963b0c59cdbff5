"""Training: model families, the trained-model folder and the ONNX export.

``train_model`` fits the family named in ``params.yaml`` (``model.family``)
and writes ``models/trained/``; ``load_trained_model`` reads it back;
``export_model`` writes ``models/model.onnx`` after checking it against the
framework model. Importing this package imports neither torch, Lightning,
scikit-learn nor ONNX: each is imported by the function that needs it.
"""

from __future__ import annotations

from mlops_gitops.training.artifact import ModelMeta, TrainedModel, load_trained_model, read_meta
from mlops_gitops.training.families import (
    ENTRY_POINT_GROUP,
    FittedModel,
    ModelFamily,
    TrainingData,
    TrainingError,
    list_families,
    load_family,
)
from mlops_gitops.training.features import feature_frame, infer_features, onnx_feed
from mlops_gitops.training.onnx_export import (
    EquivalenceCheck,
    ExportError,
    build_onnx,
    check_contract,
    check_equivalence,
    export_model,
    run_onnx,
)
from mlops_gitops.training.train import train_model

__all__ = [
    "ENTRY_POINT_GROUP",
    "EquivalenceCheck",
    "ExportError",
    "FittedModel",
    "ModelFamily",
    "ModelMeta",
    "TrainedModel",
    "TrainingData",
    "TrainingError",
    "build_onnx",
    "check_contract",
    "check_equivalence",
    "export_model",
    "feature_frame",
    "infer_features",
    "list_families",
    "load_family",
    "load_trained_model",
    "onnx_feed",
    "read_meta",
    "run_onnx",
    "train_model",
]
