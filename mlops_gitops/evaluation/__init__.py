"""Evaluation: test-set metrics, per-slice metrics and DVC plots.

``evaluate_model`` scores the trained model on the test set and writes
``metrics/evaluate.json`` and ``plots/*.json``; the metric and plot
functions are usable on their own (labels and class-1 probabilities in).
"""

from __future__ import annotations

from mlops_gitops.evaluation.evaluate import (
    EvaluateSection,
    Evaluation,
    EvaluationError,
    evaluate_model,
)
from mlops_gitops.evaluation.metrics import METRIC_NAMES, classification_metrics, slice_metrics
from mlops_gitops.evaluation.plots import (
    PLOT_FILES,
    calibration_points,
    confusion_records,
    precision_recall_points,
    roc_points,
    write_plots,
)

__all__ = [
    "METRIC_NAMES",
    "PLOT_FILES",
    "EvaluateSection",
    "Evaluation",
    "EvaluationError",
    "calibration_points",
    "classification_metrics",
    "confusion_records",
    "evaluate_model",
    "precision_recall_points",
    "roc_points",
    "slice_metrics",
    "write_plots",
]
