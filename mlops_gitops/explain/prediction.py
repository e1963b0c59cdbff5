"""Per-prediction explanations: top contributions, a counterfactual, and domain wording.

:func:`explain_prediction` explains one row of a loaded model;
:func:`parse_row` checks a user's JSON row against the model's features
first, so a typo is a one-line error that names the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops_gitops.explain.counterfactual import (
    Counterfactual,
    default_range,
    find_counterfactual,
    goal_for,
)
from mlops_gitops.explain.explained_model import ExplainError, TabularModel
from mlops_gitops.explain.explainers import find_explainer
from mlops_gitops.explain.narrative import render_template
from mlops_gitops.tasks import explained_as

if TYPE_CHECKING:
    from mlops_gitops.explain.attribution import Attributions
    from mlops_gitops.explain.settings import ExplainSettings


@dataclass(frozen=True)
class Contribution:
    """How much one feature's value moved the model output, and in which direction."""

    feature: str
    value: object
    contribution: float


@dataclass(frozen=True, kw_only=True)
class PredictionExplanation:
    """One explained decision: score, top contributions, counterfactual, wording.

    ``probability`` is the explained score: the positive probability
    (binary), the predicted class's probability (multiclass, whose
    contributions are those of ``explained_class``), or the predicted value
    (regression), or the number the task's own ``explained_as`` names (a
    clustering's distance to the centre, an anomaly score), then in
    ``described``; ``decision`` is the decision as the label holds it.
    """

    method: str
    probability: float
    threshold: float
    positive: bool
    base_value: float
    output_space: str
    contributions: tuple[Contribution, ...]
    counterfactual: Counterfactual | None
    text: str
    task: str = "binary"
    decision: int | float | str | None = None
    explained_class: str | None = None
    described: str | None = None


def parse_row(
    model: TabularModel, row: Mapping[str, object], *, origin: str = "input"
) -> pd.DataFrame:
    """Return ``row`` as a one-row frame of the model's features, checking every value.

    Keys that are not model features (an id, an excluded attribute) are ignored.

    Raises:
        ExplainError: a feature is absent, has the wrong type or an unknown category.
    """
    values: dict[str, object] = {}
    for spec in model.space.features:
        if spec.name not in row:
            raise ExplainError(
                f"{origin}: missing feature '{spec.name}' (use null for a missing value)"
            )
        value = row[spec.name]
        if value is None:
            values[spec.name] = math.nan if spec.kind == "numeric" else None
        elif spec.kind == "numeric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExplainError(
                    f"{origin}: {spec.name}: expected a number or null, got {value!r}"
                )
            values[spec.name] = float(value)
        else:
            if str(value) not in spec.categories:
                known = ", ".join(spec.categories)
                raise ExplainError(
                    f"{origin}: {spec.name}: unknown category {value!r} (known: {known})"
                )
            values[spec.name] = str(value)
    return pd.DataFrame([values], columns=list(model.space.names)).astype(
        {s.name: ("float64" if s.kind == "numeric" else "object") for s in model.space.features}
    )


def explain_prediction(
    model: TabularModel,
    row: pd.DataFrame,
    *,
    background: pd.DataFrame,
    settings: ExplainSettings,
    method: str = "shap",
    threshold: float = 0.5,
    with_counterfactual: bool = False,
) -> PredictionExplanation:
    """Explain the model's decision on a one-row frame.

    Args:
        row: one row of the model's features (:func:`parse_row`).
        background: a sample of training rows (kernel SHAP, LIME).
        settings: the ``explain`` params (template, top count, counterfactual search).
        method: the explainer's name (``shap``, ``lime`` or a plug-in).
        with_counterfactual: also search the smallest change that flips the decision.
    """
    attributions = find_explainer(method).attribute(
        model, row, background=background, settings=settings
    )
    return explanation_of(
        attributions,
        0,
        model=model,
        settings=settings,
        threshold=threshold,
        with_counterfactual=with_counterfactual,
    )


def explanation_of(
    attributions: Attributions,
    index: int,
    *,
    model: TabularModel,
    settings: ExplainSettings,
    threshold: float,
    with_counterfactual: bool,
) -> PredictionExplanation:
    """Build the explanation of row ``index`` of computed attributions."""
    frame = attributions.data.iloc[[index]]
    scores = model.predict_proba(frame)
    decided = model.decide(scores, threshold=threshold)
    decision = model.task.decode(decided, model.classes)[0]
    probability = (
        float(scores[0].max()) if model.explains == "classes" else float(model.explained(scores)[0])
    )
    counterfactual = (
        _counterfactual(model, frame, scores[0], settings=settings, threshold=threshold)
        if with_counterfactual
        else None
    )
    contributions = tuple(Contribution(*item) for item in attributions.top(index, settings.top))
    explanation = PredictionExplanation(
        method=attributions.method,
        probability=probability,
        threshold=threshold,
        positive=model.explains == "positive" and probability >= threshold,
        base_value=float(attributions.for_decisions().base_values[index]),
        output_space=attributions.output_space,
        contributions=contributions,
        counterfactual=counterfactual,
        text="",
        task=model.task.name,
        decision=decision,
        explained_class=attributions.explained_class(index),
        described=explained_as(model.task),
    )
    text = render_template(
        settings.template, narrative_context(explanation), template_dir=settings.template_dir
    )
    return replace(explanation, text=text.strip() + "\n")


def _counterfactual(
    model: TabularModel,
    frame: pd.DataFrame,
    scores: np.ndarray,
    *,
    settings: ExplainSettings,
    threshold: float,
) -> Counterfactual | None:
    search = settings.counterfactual
    goal = goal_for(
        model, scores, threshold=threshold, target_class=search.target_class,
        target_range=search.target_range,
    )  # fmt: skip
    return find_counterfactual(
        model, model.space.encode(frame)[0], threshold=threshold, goal=goal,
        immutable=settings.immutable, max_changes=search.max_changes,
        beam_width=search.beam_width, grid=search.grid,
    )  # fmt: skip


def with_default_range(
    settings: ExplainSettings, model: TabularModel, reference: pd.DataFrame
) -> ExplainSettings:
    """Return ``settings`` with the default regression target range filled in from ``reference``.

    Other tasks, and a configured range, are returned as they are.

    Raises:
        ExplainError: a regression without a range whose ``reference`` lacks the label.
    """
    search = settings.counterfactual
    if model.explains != "value" or search.target_range is not None:
        return settings
    target = default_range(model, reference)
    return settings.model_copy(
        update={"counterfactual": search.model_copy(update={"target_range": target})}
    )


def _fields(explanation: PredictionExplanation) -> dict[str, object]:
    return {name: getattr(explanation, name) for name in explanation.__dataclass_fields__}


def narrative_context(explanation: PredictionExplanation) -> dict[str, object]:
    """Return the context an explanation template sees."""
    contributions = [asdict(c) for c in explanation.contributions]
    return {
        **{
            k: v
            for k, v in _fields(explanation).items()
            if k not in ("contributions", "counterfactual", "text")
        },
        "contributions": contributions,
        "towards": [c for c in contributions if c["contribution"] > 0],
        "against": [c for c in contributions if c["contribution"] < 0],
        "counterfactual": asdict(explanation.counterfactual)
        if explanation.counterfactual
        else None,
    }


def explain_examples(  # the stage's inputs to the examples, keyword-only
    model: TabularModel,
    attributions: Mapping[str, Attributions],
    train: pd.DataFrame,
    *,
    settings: ExplainSettings,
    threshold: float,
    counterfactuals: bool,
) -> tuple[PredictionExplanation, ...]:
    """Explain the first rows not at the counterfactual goal (binary: declined ones).

    Binary: positive (declined) rows; multiclass: rows not predicted as
    ``target_class`` (any row without one); regression: rows predicted
    outside the target range (default: the training label's middle half);
    a task without counterfactuals (clustering, anomaly): the first rows.
    """
    count = settings.counterfactual.rows
    if count == 0 or not attributions:
        return ()
    primary = next(iter(attributions.values()))
    if counterfactuals:
        settings = with_default_range(settings, model, train)
        candidates = _not_at_goal(model, primary.data, settings, threshold)
    else:  # no goal to be away from: the first rows
        candidates = np.arange(0)
    chosen = list(candidates[:count]) or list(range(min(count, len(primary.data))))
    return tuple(
        explanation_of(
            primary,
            int(i),
            model=model,
            settings=settings,
            threshold=threshold,
            with_counterfactual=counterfactuals,
        )
        for i in chosen
    )


def _not_at_goal(
    model: TabularModel, rows: pd.DataFrame, settings: ExplainSettings, threshold: float
) -> np.ndarray:
    scores = model.predict_proba(rows)
    target = settings.counterfactual
    if model.explains == "classes":
        if target.target_class not in model.classes:
            return np.arange(len(rows))
        return np.flatnonzero(np.argmax(scores, axis=1) != model.classes.index(target.target_class))
    if model.explains == "value":
        low, high = target.target_range or (-np.inf, np.inf)
        return np.flatnonzero((scores < low) | (scores > high))
    return np.flatnonzero(scores >= threshold)
