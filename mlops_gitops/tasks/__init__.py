"""Tasks: what kind of prediction a model makes (binary, multiclass, regression, clustering...).

``load_task`` returns the :class:`Task` named in params.yaml or in a model's
metadata; every consumer asks it for label checks, decisions and metrics
instead of assuming a binary classifier. Importing this package imports
neither numpy nor scikit-learn.
"""

from __future__ import annotations

from mlops_gitops.tasks.base import (
    BUILTIN_TASKS,
    DEFAULT_TASK,
    DEFAULT_THRESHOLD,
    ENTRY_POINT_GROUP,
    TASKS,
    Labels,
    Metric,
    Output,
    Served,
    Task,
    list_tasks,
    load_task,
    metric_order,
    needs_points,
    score,
)
from mlops_gitops.tasks.labels import encode_labels

__all__ = [
    "BUILTIN_TASKS",
    "DEFAULT_TASK",
    "DEFAULT_THRESHOLD",
    "ENTRY_POINT_GROUP",
    "TASKS",
    "Labels",
    "Metric",
    "Output",
    "Served",
    "Task",
    "encode_labels",
    "list_tasks",
    "load_task",
    "metric_order",
    "needs_points",
    "score",
]
