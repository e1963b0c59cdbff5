"""Global feature importance: permutation importance on the ONNX model, native importance.

Permutation importance shuffles one feature column of the encoded test
sample at a time and measures how much the score of the ONNX model drops,
so it holds for every framework. The score is one of the model's task's
metrics (:mod:`mlops_gitops.tasks`; by default its headline metric), with
the task's decision rule; a drop is always "worse", whichever way the
metric points. Native importance is what the framework
model reports itself (``feature_importances_`` of tree ensembles, absolute
coefficients of linear models), summed back onto the raw features; models
without one (histogram gradient boosting, neural networks) have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlops_gitops.explain.attribution import sum_onto_features
from mlops_gitops.explain.explained_model import ExplainError, TabularModel
from mlops_gitops.tasks import DEFAULT_THRESHOLD, Metric, unlabelled_scoring


def find_metric(model: TabularModel, scoring: str | None) -> Metric:
    """Return the model's task metric named ``scoring`` (None: the task's headline metric).

    Raises:
        ExplainError: the task has no such metric, or it has no direction to drop in.
    """
    task = model.task
    name = scoring or task.headline
    metrics = {m.name: m for m in task.metrics if m.direction != "neutral"}
    if name not in metrics:
        raise ExplainError(
            f"explain.permutation.scoring: '{name}' is not a metric of the {task.name} model "
            f"(known: {', '.join(metrics)})"
        )
    return metrics[name]


@dataclass(frozen=True, kw_only=True)
class Importance:
    """Permutation importance: the mean and spread of the score drop per feature.

    ``against`` says what the score compares the model with: the true
    ``labels``, or the model's own ``decisions`` on the unshuffled rows (an
    unlabelled clustering or anomaly model).
    """

    scoring: str
    baseline: float
    mean: Mapping[str, float]
    std: Mapping[str, float]
    against: Literal["labels", "decisions"] = "labels"

    def ranked(self) -> list[str]:
        """Return the features from most to least important."""
        return sorted(self.mean, key=lambda name: (-self.mean[name], name))


def permutation_importance(
    model: TabularModel,
    rows: np.ndarray,
    labels: np.ndarray | None,
    *,
    scoring: str | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    threshold: float = DEFAULT_THRESHOLD,
) -> Importance:
    """Return how much the ONNX model's score drops when each feature is shuffled.

    Args:
        rows: the encoded sample (:meth:`FeatureSpace.encode`).
        labels: the true labels of ``rows``, encoded by the task (0/1, class codes, values);
            None where the rows have none. Without them, or when the scoring metric
            reads no labels (a silhouette), the model is scored against its own
            decisions on the unshuffled rows with the task's ``unlabelled_scoring``
            metric (:func:`mlops_gitops.tasks.unlabelled_scoring`).
        scoring: a metric of the model's task (None: its headline metric).
        threshold: the binary decision threshold the decision metrics use.

    Raises:
        ExplainError: the scoring is unknown, the labels do not vary, or the task
            needs labels the rows do not have.
    """
    metric, labels, against = _reference(
        model, rows, labels, metric=find_metric(model, scoring), threshold=threshold
    )
    if len(np.unique(labels)) < 2:
        raise ExplainError(
            "permutation importance needs both classes (two label values at least) "
            "in the sample; sample more rows"
        )
    sign = -1 if metric.direction == "minimize" else 1

    def score(y: np.ndarray, scores: np.ndarray) -> float:
        return metric.compute(y, scores, model.decide(scores, threshold=threshold))

    scoring = metric.name
    baseline = score(labels, model.predict_matrix(rows))
    rng = np.random.default_rng(seed)
    drops = np.zeros((rows.shape[1], n_repeats))
    for repeat in range(n_repeats):
        for j in range(rows.shape[1]):
            shuffled = rows.copy()
            shuffled[:, j] = rows[rng.permutation(len(rows)), j]
            drops[j, repeat] = sign * (baseline - score(labels, model.predict_matrix(shuffled)))
    names = model.space.names
    return Importance(
        scoring=scoring,
        baseline=baseline,
        mean={n: float(drops[j].mean()) for j, n in enumerate(names)},
        std={n: float(drops[j].std()) for j, n in enumerate(names)},
        against=against,
    )


def _reference(
    model: TabularModel,
    rows: np.ndarray,
    labels: np.ndarray | None,
    *,
    metric: Metric,
    threshold: float,
) -> tuple[Metric, np.ndarray, Literal["labels", "decisions"]]:
    """Return the metric, the reference values and what they are (the labels or decisions)."""
    if labels is not None and metric.needs == "labels":
        return metric, labels, "labels"
    name = unlabelled_scoring(model.task)
    if name is None:
        raise ExplainError(
            f"permutation importance of a {model.task.name} model needs labels "
            f"(explain.permutation.scoring '{metric.name}' reads none); set data.label"
        )
    decided = model.decide(model.predict_matrix(rows), threshold=threshold)
    return find_metric(model, name), np.asarray(decided), "decisions"


def native_importance(model: TabularModel) -> dict[str, float] | None:
    """Return the framework model's own importance per raw feature (sums to 1), or None."""
    native = model.native
    if native is None:
        return None
    final = native.steps[-1][1] if hasattr(native, "steps") else native
    if hasattr(final, "feature_importances_"):
        weights = np.asarray(final.feature_importances_, dtype=float)
    elif hasattr(final, "coef_"):
        weights = np.abs(np.asarray(final.coef_, dtype=float)).sum(axis=0)
    else:
        return None
    if hasattr(native, "steps") and len(native.steps) > 1:
        names = list(native[:-1].get_feature_names_out())  # type: ignore[index]  # a Pipeline
    else:
        names = list(model.space.names)
    if len(names) != weights.size:
        raise ExplainError(
            f"{model.path}: native importance has {weights.size} values for {len(names)} columns"
        )
    raw = sum_onto_features(weights.reshape(1, -1), names, model.space.names)[0]
    total = raw.sum() or 1.0
    return {name: float(v / total) for name, v in zip(model.space.names, raw, strict=True)}


def compare_importance(
    base: Mapping[str, float], head: Mapping[str, float]
) -> list[dict[str, object]]:
    """Compare two versions' importance: one row per feature with both values, delta, ranks.

    Rows are ordered by the head version's importance; a feature absent from
    one side has ``None`` there.
    """
    base_rank = {n: i + 1 for i, n in enumerate(sorted(base, key=lambda n: -base[n]))}
    head_rank = {n: i + 1 for i, n in enumerate(sorted(head, key=lambda n: -head[n]))}
    names = sorted(set(base) | set(head), key=lambda n: (-head.get(n, -np.inf), n))
    return [
        {
            "feature": n,
            "base": base.get(n),
            "head": head.get(n),
            "delta": (head[n] - base[n]) if n in base and n in head else None,
            "base_rank": base_rank.get(n),
            "head_rank": head_rank.get(n),
        }
        for n in names
    ]
