"""Serving: REST inference of the ONNX models an environment manifest pins.

Owns the inference server (Open Inference Protocol v2, canary and A/B
routing, health, Prometheus metrics, prediction logs, bearer-token auth,
hot reload, real-time validation against the training schema), batch
prediction, edge export and the Kubernetes rendering of an environment.
Reads ``envs/<env>.yaml`` through :mod:`mlops_gitops.manifests` (its pins
checked against the registration tags by :mod:`mlops_gitops.registry`) and
artifacts from the DVC cache or remote by content hash; writes prediction
logs under ``serving.prediction_log.path``.
"""

from __future__ import annotations

from mlops_gitops.serving.auth import TokenStore, read_tokens
from mlops_gitops.serving.batch import BatchOptions, BatchReport, predict_file
from mlops_gitops.serving.deploy import (
    DeployReport,
    deploy,
    read_committed_plan,
    verify_artifacts,
)
from mlops_gitops.serving.edge import EdgeExport, export_edge
from mlops_gitops.serving.kube import Rendered, render_k8s, render_plan
from mlops_gitops.serving.model import ServingError, VersionSession, open_version_session
from mlops_gitops.serving.modelset import ModelSet, load_model_set
from mlops_gitops.serving.plan import (
    ModelPlan,
    PredictionLogSettings,
    ServingPlan,
    ServingSettings,
    ValidationSettings,
    Variant,
    read_plan,
    read_registered_plan,
)
from mlops_gitops.serving.predlog import PredictionLog
from mlops_gitops.serving.server import ServeOptions, find_running, serve

__all__ = [
    "BatchOptions",
    "BatchReport",
    "DeployReport",
    "EdgeExport",
    "ModelPlan",
    "ModelSet",
    "PredictionLog",
    "PredictionLogSettings",
    "Rendered",
    "ServeOptions",
    "ServingError",
    "ServingPlan",
    "ServingSettings",
    "TokenStore",
    "ValidationSettings",
    "Variant",
    "VersionSession",
    "deploy",
    "export_edge",
    "find_running",
    "load_model_set",
    "open_version_session",
    "predict_file",
    "read_committed_plan",
    "read_plan",
    "read_registered_plan",
    "read_tokens",
    "render_k8s",
    "render_plan",
    "serve",
    "verify_artifacts",
]
