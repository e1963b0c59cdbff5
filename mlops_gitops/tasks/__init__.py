"""Tasks: what kind of prediction a model makes (binary, multiclass, regression, clustering...).

``load_task`` returns the :class:`Task` named in params.yaml or in a model's
metadata; every consumer asks it for label checks, decisions and metrics
instead of assuming a binary classifier. Importing this package imports
neither numpy nor scikit-learn.
"""

from __future__ import annotations

from mlops_gitops.tasks.base import (
    ANALYSES,
    BUILTIN_TASKS,
    DEFAULT_TASK,
    DEFAULT_THRESHOLD,
    ENTRY_POINT_GROUP,
    TASKS,
    Explains,
    Labels,
    Metric,
    Output,
    Served,
    Task,
    Watch,
    applicable_analyses,
    explained_as,
    explained_output,
    explained_scores,
    inapplicable_reason,
    label_type,
    list_tasks,
    load_task,
    metric_order,
    needs_points,
    score,
    unlabelled_scoring,
    watch_of,
)
from mlops_gitops.tasks.labels import encode_labels

__all__ = [
    "ANALYSES",
    "BUILTIN_TASKS",
    "DEFAULT_TASK",
    "DEFAULT_THRESHOLD",
    "ENTRY_POINT_GROUP",
    "TASKS",
    "Explains",
    "Labels",
    "Metric",
    "Output",
    "Served",
    "Task",
    "Watch",
    "applicable_analyses",
    "encode_labels",
    "explained_as",
    "explained_output",
    "explained_scores",
    "inapplicable_reason",
    "label_type",
    "list_tasks",
    "load_task",
    "metric_order",
    "needs_points",
    "score",
    "unlabelled_scoring",
    "watch_of",
]
