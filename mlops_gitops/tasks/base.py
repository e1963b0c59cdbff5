"""Tasks: what kind of prediction a model makes, the plug-in point every consumer asks.

A task owns the label checks and encoding, the model's score outputs and
their ONNX contract, the decision rule, the metrics (with their direction
and the headline one), whether a split stratifies on the label and whether
fitting needs one at all (``supervised``). The built-in tasks are
``binary``, ``multiclass``, ``regression``, ``clustering`` and ``anomaly``
(:data:`BUILTIN_TASKS`); others register under the entry-point group
``mlops_gitops.tasks``, loaded by :mod:`mlops_gitops.plugins`. The task is
declared once (``model.task`` in params.yaml) and recorded by training in
the artifact's metadata, where every later stage reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias, runtime_checkable

from mlops_gitops.errors import ConfigError
from mlops_gitops.plugins import PluginPoint, instance

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

ENTRY_POINT_GROUP = "mlops_gitops.tasks"
DEFAULT_TASK = "binary"
# The decision threshold where none is configured (evaluate.threshold's default).
DEFAULT_THRESHOLD = 0.5
BUILTIN_TASKS: dict[str, str] = {
    "binary": "mlops_gitops.tasks.binary:BinaryTask",
    "multiclass": "mlops_gitops.tasks.multiclass:MulticlassTask",
    "regression": "mlops_gitops.tasks.regression:RegressionTask",
    "clustering": "mlops_gitops.tasks.clustering:ClusteringTask",
    "anomaly": "mlops_gitops.tasks.anomaly:AnomalyTask",
}

# (labels, decision scores, decisions) -> value
MetricFunction = Callable[
    ["npt.NDArray[np.generic]", "npt.NDArray[np.float64]", "npt.NDArray[np.generic]"], float
]
# The class names a later set is encoded with; None while training learns them.
Classes: TypeAlias = "Sequence[str] | None"
Direction = Literal["maximize", "minimize", "neutral"]
# What a metric's first argument is: the labels, the points (rows in the space the
# model measures distances in, see ``TrainedModel.embed``) or the scores themselves.
MetricInput = Literal["labels", "points", "scores"]
OutputType = Literal["int64", "float"]
# What explanations attribute (a task's optional trait ``explains``): the
# positive class's probability, each class's probability, or the predicted value.
Explains = Literal["positive", "classes", "value"]
# The explain-stage analyses a task may opt out of (importance, attributions and
# correlation apply to every model with a label); a task's optional trait
# ``explanations`` names those that apply to it, the report says so for the others.
ANALYSES = ("surrogate", "counterfactuals", "fairness")


@dataclass(frozen=True)
class Labels:
    """A label column checked and encoded: class codes (or values) and the class names."""

    values: npt.NDArray[np.generic]
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    """One metric of a task: ``compute(labels, scores, decisions)`` and which way is better.

    ``needs`` says what ``compute`` reads as its first argument (the labels unless
    it says otherwise); where that is not at hand, the metric is NaN.
    """

    name: str
    compute: MetricFunction
    direction: Direction
    needs: MetricInput = "labels"


@dataclass(frozen=True)
class Output:
    """One output of the task's ONNX graph: its name, element type and shape, in words."""

    name: str
    type: OutputType
    shape: str


# A records-response field: one value per row, or one column per key (a nested object per row).
Field: TypeAlias = "npt.NDArray[np.generic] | Mapping[str, npt.NDArray[np.generic]]"


@dataclass(frozen=True, kw_only=True)
class Served:
    """A model's outputs decided for its users: what serving answers, batch writes, the log keeps.

    ``predictions`` holds the user's values (0/1, class names, numbers) and
    ``scores`` the number the log and drift read; ``tensors`` are the v2
    response outputs in order, with ``parameters`` per tensor; ``fields``
    are the records response's per-row fields, column-wise; ``columns`` are
    the extra float64 columns of the log and of batch output (``proba:<class>``).
    """

    predictions: npt.NDArray[np.generic]
    scores: npt.NDArray[np.float64]
    tensors: Mapping[str, npt.NDArray[np.generic]]
    fields: Mapping[str, Field]
    columns: Mapping[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    parameters: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


PredictionKind = Literal["positive_rate", "classes", "scores"]


@dataclass(frozen=True, kw_only=True)
class Watch:
    """How monitoring watches a task's deployed model (a task's optional ``monitoring``).

    ``prediction`` says what prediction drift compares: the positive rate and
    scores (binary), the distribution of the logged ``prediction`` as classes
    (chi-square and PSI), or the logged ``score`` as numbers (PSI and KS).
    ``metrics`` are computed from feedback labels (empty: feedback does not
    apply to the task); ``defaults`` are the ones computed unless
    ``monitoring.performance.metrics`` names others. ``health`` is the
    performance indicator of the default health score and the value scoring
    0; ``alerts`` are the default alert rules as ``(id, indicator, op, threshold)``.
    """

    prediction: PredictionKind
    metrics: tuple[Metric, ...]
    defaults: tuple[str, ...] = ()
    health: tuple[str, float] | None = None
    alerts: tuple[tuple[str, str, str, float], ...] = ()


@runtime_checkable
class Task(Protocol):
    """A kind of prediction: labels in, scores out, decisions and metrics on them."""

    # Read-only traits: the name, whether splits stratify on the label, whether fitting
    # needs the label (an unsupervised task only evaluates with one), the headline metric.
    @property
    def name(self) -> str: ...
    @property
    def stratifies(self) -> bool: ...
    @property
    def supervised(self) -> bool: ...
    @property
    def headline(self) -> str: ...
    @property
    def outputs(self) -> tuple[Output, ...]:
        """The ONNX graph's outputs, in order; the last one holds the scores."""

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The metrics, in the order the metrics file lists them."""

    @property
    def plots(self) -> tuple[str, ...]:
        """The names of the evaluation plots that apply."""

    def encode_labels(self, column: pd.Series, *, origin: str, classes: Classes = None) -> Labels:
        """Check and encode a label column (named as the label).

        Without ``classes`` (training) the classes are learned from the column,
        which must hold at least two; with them (later sets) a value outside
        them is refused.

        Raises:
            DataError: one line naming ``origin`` and the label, and what is expected.
        """

    def decision_scores(self, predicted: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Return what the decision rule and metrics read from the model's score output."""

    def decide(
        self, scores: npt.NDArray[np.float64], *, threshold: float
    ) -> npt.NDArray[np.generic]:
        """Return the decisions: class codes, or the predicted values."""

    def decision_rule(self, threshold: float) -> dict[str, float]:
        """Return the decision rule's parameters as recorded beside the metrics."""

    def decode(
        self, decisions: npt.NDArray[np.generic], classes: Sequence[str]
    ) -> list[int | float | str]:
        """Return decisions (or encoded labels) as the values the user's label holds."""

    def agreement(
        self, onnx_outputs: Sequence[npt.NDArray[np.generic]], predicted: npt.NDArray[np.float64]
    ) -> float | None:
        """Return the share of rows whose ONNX label matches the model's (None without labels)."""

    def rates(
        self, labels: npt.NDArray[np.generic], scores: npt.NDArray[np.float64], *, threshold: float
    ) -> dict[str, float]:
        """Return the per-slice shares fairness checks compare (base and positive rate...)."""

    def per_class(
        self,
        labels: npt.NDArray[np.generic],
        scores: npt.NDArray[np.float64],
        *,
        threshold: float,
        classes: Sequence[str],
    ) -> dict[str, dict[str, float]]:
        """Return each class's own metrics by class name (empty where the task has none)."""

    def served(
        self,
        outputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        classes: Sequence[str],
        threshold: float,
    ) -> Served:
        """Decide the ONNX ``outputs`` of a batch for serving, batch scoring and the log."""


def score(
    task: Task,
    labels: npt.NDArray[np.generic],
    scores: npt.NDArray[np.float64],
    *,
    threshold: float,
    points: npt.NDArray[np.float64] | None = None,
) -> dict[str, float]:
    """Return every metric of ``task`` on ``labels`` and decision ``scores``, by name.

    ``points`` feed the metrics that need them (``Metric.needs``); without
    them those metrics are NaN.
    """
    decisions = task.decide(scores, threshold=threshold)
    inputs = {"labels": labels, "points": points, "scores": scores}
    values: dict[str, float] = {}
    for metric in task.metrics:
        first = inputs[metric.needs]
        values[metric.name] = (
            float("nan") if first is None else metric.compute(first, scores, decisions)
        )
    return values


def needs_points(task: Task) -> bool:
    """Return whether a metric of ``task`` reads points (``Metric.needs``)."""
    return any(metric.needs == "points" for metric in task.metrics)


def label_type(task: Task) -> Literal["int", "float"] | None:
    """Return the type validation gives the label when ``schema.columns`` does not declare it.

    The task's ``label_type`` trait: ``int`` for 0/1 labels, ``float`` for a
    value, None (also for a task without the trait) for labels of any type,
    such as class names or numbers.
    """
    value = getattr(task, "label_type", None)
    return value if value in ("int", "float") else None


def watch_of(task: Task) -> Watch:
    """Return how monitoring watches ``task``: its ``monitoring`` attribute, or the defaults.

    A task without one (a plug-in) has its scores compared as numbers and those
    of its metrics that read labels only (a metric's optional ``needs``, when it
    says ``labels`` or is absent) computed from feedback: the headline by
    default (else the first), its drop the health indicator.
    """
    watch = getattr(task, "monitoring", None)
    if isinstance(watch, Watch):
        return watch
    metrics = tuple(m for m in task.metrics if getattr(m, "needs", "labels") == "labels")
    names = [m.name for m in metrics if m.direction != "neutral"]
    default = task.headline if task.headline in names else (names[0] if names else None)
    return Watch(
        prediction="scores",
        metrics=metrics,
        defaults=(default,) if default else (),
        health=(f"performance.{default}_drop", 0.1) if default else None,
    )


def metric_order(task: Task) -> tuple[str, ...]:
    """Return the task's metric names as reports list them: the headline first."""
    names = tuple(metric.name for metric in task.metrics)
    return (task.headline, *(n for n in names if n != task.headline))


def explained_output(task: Task) -> Explains:
    """Return what explanations of ``task`` attribute (trait ``explains``; binary by default)."""
    value = getattr(task, "explains", "positive")
    if value == "classes":
        return "classes"
    return "value" if value == "value" else "positive"


def applicable_analyses(task: Task) -> tuple[str, ...]:
    """Return the explain-stage analyses that apply to ``task`` (trait ``explanations``)."""
    return tuple(getattr(task, "explanations", ANALYSES))


def inapplicable_reason(task: Task, analysis: str) -> str:
    """Return why ``analysis`` does not apply to ``task``, or "".

    The optional trait ``inapplicable`` holds ``(analysis, reason)`` pairs.
    """
    reasons = dict(getattr(task, "inapplicable", None) or ())
    return str(reasons.get(analysis, ""))


def explained_scores(task: Task, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return what explanations attribute, one number per row, from the decision ``scores``.

    A task's optional method ``explained(scores)`` reduces its scores (a clustering's
    distances to every centre become the distance to the assigned one); without it
    the scores are attributed as they are.
    """
    explained = getattr(task, "explained", None)
    return scores if explained is None else explained(scores)


def explained_as(task: Task) -> str | None:
    """Return the task's own words for what its explanations attribute (trait ``explained_as``).

    None where the task has none: its scores are a probability or a predicted
    value (``explained_output``), which reports name themselves.
    """
    words = getattr(task, "explained_as", None)
    return str(words) if words else None


def unlabelled_scoring(task: Task) -> str | None:
    """Return the metric permutation importance scores against the model's own decisions.

    Used where the rows have no label or the scoring metric reads none (a
    silhouette): a task's optional trait ``unlabelled_scoring`` names one of
    its metrics that compares labels with decisions; None where no such
    metric applies (a supervised task always has its labels).
    """
    name = getattr(task, "unlabelled_scoring", None)
    return str(name) if name else None


def list_tasks() -> dict[str, str]:
    """Return every known task: name -> ``module:attribute``, plug-ins included."""
    return TASKS.names()


def load_task(name: str, *, where: str = "params.yaml model.task") -> Task:
    """Return the task called ``name``.

    Raises:
        ConfigError: no task has that name, or it does not implement :class:`Task`.
    """
    return TASKS.load(name, where=where)


TASKS: PluginPoint[Task] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="task",
    protocol=Task,
    builtins=BUILTIN_TASKS,
    error=ConfigError,
    make=instance,
)
