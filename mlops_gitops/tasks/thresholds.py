"""The binary decision rule: ``evaluate.threshold``, fixed or chosen on the validation split.

``evaluate.threshold`` is a number in (0, 1) or ``auto``. With ``auto`` the
train stage scores the validation split and picks the threshold that is
best by ``evaluate.threshold_criterion``: ``f1`` (largest F1), ``youden``
(largest TPR - FPR) or ``cost`` (smallest ``evaluate.costs``-weighted count
of false positives and false negatives). The chosen threshold and its
criterion are recorded in the model's metadata, where every consumer reads
the rule (evaluation, the ONNX metadata key ``threshold``, monitoring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlops_gitops.tasks.base import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import numpy.typing as npt

    from mlops_gitops.tasks.base import Task

AUTO = "auto"
Criterion = Literal["f1", "youden", "cost"]


class Costs(BaseModel):
    """``evaluate.costs``: what one false positive and one false negative cost."""

    model_config = ConfigDict(extra="forbid")

    false_positive: float = Field(gt=0)
    false_negative: float = Field(gt=0)


class DecisionSection(BaseModel):
    """The decision-rule fields of ``evaluate`` (other fields are the evaluation's)."""

    model_config = ConfigDict(extra="ignore")

    threshold: Annotated[float, Field(gt=0, lt=1)] | Literal["auto"] = DEFAULT_THRESHOLD
    threshold_criterion: Criterion = "f1"
    costs: Costs | None = None

    @field_validator("threshold", mode="before")
    @classmethod
    def _number_or_auto(cls, value: object) -> object:
        if isinstance(value, str) and value != AUTO:
            raise ValueError(f"expected a number between 0 and 1 or '{AUTO}'")
        return value

    @model_validator(mode="after")
    def _costs_for_cost(self) -> DecisionSection:
        if self.threshold == AUTO and self.threshold_criterion == "cost" and self.costs is None:
            raise ValueError(
                "threshold_criterion 'cost' needs evaluate.costs "
                "{false_positive: X, false_negative: Y}"
            )
        return self

    @property
    def is_auto(self) -> bool:
        """Return whether the threshold is chosen on the validation split."""
        return self.threshold == AUTO


def choose_threshold(
    labels: npt.NDArray[np.generic],
    scores: npt.NDArray[np.float64],
    rule: DecisionSection,
) -> float:
    """Return the threshold ``rule`` asks for: its number, or the best on ``labels``.

    Candidates are the distinct scores (a row is positive when its score
    reaches the threshold); ties keep the highest threshold.
    """
    import numpy as np

    if not rule.is_auto:
        return float(rule.threshold)
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    sorted_scores, sorted_labels = s[order], y[order]
    # The last row of each run of equal scores: thresholds at the distinct scores.
    last = np.r_[np.nonzero(np.diff(sorted_scores))[0], len(s) - 1]
    tp = np.cumsum(sorted_labels)[last].astype(np.float64)
    fp = (last + 1) - tp
    positives, negatives = float(y.sum()), float(len(y) - y.sum())
    fn, candidates = positives - tp, sorted_scores[last]
    value = _criterion_values(tp, fp, fn, positives=positives, negatives=negatives, rule=rule)
    best = int(np.argmax(value))  # first best = highest threshold among ties
    return float(min(max(candidates[best], np.nextafter(0.0, 1.0)), np.nextafter(1.0, 0.0)))


def _criterion_values(
    tp: npt.NDArray[np.float64],
    fp: npt.NDArray[np.float64],
    fn: npt.NDArray[np.float64],
    *,
    positives: float,
    negatives: float,
    rule: DecisionSection,
) -> npt.NDArray[np.float64]:
    """Return the criterion at each candidate, larger is better."""
    import numpy as np

    if rule.threshold_criterion == "f1":
        denominator = 2 * tp + fp + fn
        return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    if rule.threshold_criterion == "youden":
        tpr = tp / positives if positives else np.zeros_like(tp)
        fpr = fp / negatives if negatives else np.zeros_like(fp)
        return np.asarray(tpr - fpr, dtype=np.float64)
    costs = rule.costs or Costs(false_positive=1, false_negative=1)
    return np.asarray(-(costs.false_positive * fp + costs.false_negative * fn), dtype=np.float64)


def record_rule(
    task: Task,
    labels: npt.NDArray[np.generic],
    predict: Callable[[], npt.NDArray[np.float64]],
    rule: DecisionSection,
) -> tuple[float | None, str | None]:
    """Return the threshold and criterion a model of ``task`` records (None, None without one).

    ``predict`` returns the model's scores on the rows of ``labels`` (the
    validation split); it is called only when the threshold is ``auto``.
    """
    if "threshold" not in task.decision_rule(DEFAULT_THRESHOLD):
        return None, None
    if not rule.is_auto:
        return float(rule.threshold), None
    chosen = choose_threshold(labels, task.decision_scores(predict()), rule)
    return chosen, rule.threshold_criterion
