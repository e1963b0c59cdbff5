"""Counterfactuals: the smallest feasible change to a row that reaches another decision.

What "another decision" means follows the model's task (a :class:`Goal`):
binary, the decision flips at the threshold; multiclass, a target class
(``explain.counterfactual.target_class``, default the most likely other
class) becomes the most probable; regression, the predicted value lands in a
target range (``explain.counterfactual.target_range``, default the training
label's 25th to 75th percentile, see :func:`default_range`).

The search runs on the ONNX model, so it holds for every framework; it is a
beam search over feasible values (no library fitted here: dice-ml refuses
rows with missing values, which the data has, and pulls in xgboost,
lightgbm and CUDA wheels):

1. Feasible values come from the feature space: for a numeric feature,
   ``grid`` evenly spaced values over its observed range (whole numbers for
   count-like features); for a categorical feature, each known category.
   Immutable features (``explain.immutable``, e.g. ``age_band``) never change.
2. Level k tries every way of changing one more feature of the ``beam_width``
   best states of level k-1, scored in one ONNX batch. The first level with a
   flip wins, so the number of changed features is minimal (up to
   ``max_changes``); among its flips the one with the smallest normalised
   distance wins (numeric change / interquartile range, 1 per category or
   filled-in missing value). States that flip nothing are ranked by how far
   they move the probability towards the threshold.
3. The winner is then made smaller while the decision stays flipped: a
   change that is not needed is undone, each numeric change is bisected
   towards the original value, and the result is rounded to 1% of the
   feature's interquartile range (away from the original value).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_gitops.explain.explained_model import (
    ExplainError,
    FeatureSpace,
    FeatureSpec,
    TabularModel,
)
from mlops_gitops.tasks import DEFAULT_THRESHOLD

BatchTest = Callable[[np.ndarray], np.ndarray]

_BISECT_STEPS = 12


@dataclass(frozen=True)
class Change:
    """One feature changed by a counterfactual."""

    feature: str
    before: object
    after: object


@dataclass(frozen=True, kw_only=True)
class Counterfactual:
    """A changed row whose decision differs from the original's (reaches the goal).

    ``probability_before``/``after`` are the goal's measure: the positive
    probability (binary), the target class's probability (multiclass) or the
    predicted value (regression); ``target`` says what was reached.
    """

    changes: tuple[Change, ...]
    probability_before: float
    probability_after: float
    threshold: float
    distance: float
    row: dict[str, object]
    target: str = ""


@dataclass(frozen=True)
class Goal:
    """What a counterfactual must reach, read on the model's scores of a batch of rows."""

    target: str
    # scores -> whether each row reaches the goal
    reached: BatchTest
    # scores -> how close each row is (higher is closer); ranks the search's beam
    progress: BatchTest
    # scores -> the number reported before and after (probability or value)
    measure: BatchTest


def flip_goal(before: float, threshold: float) -> Goal:
    """Return the binary goal: the decision at ``threshold`` differs from ``before``'s."""
    positive = before >= threshold
    return Goal(
        "negative" if positive else "positive",
        lambda s: (s >= threshold) != positive,
        lambda s: (threshold - s) if positive else (s - threshold),
        lambda s: s,
    )


def class_goal(model: TabularModel, before: np.ndarray, target: str | None) -> Goal:
    """Return the multiclass goal: ``target`` (default: the most likely other class) wins.

    Raises:
        ExplainError: ``target`` is not a class of the model, or is already predicted.
    """
    classes = model.classes
    decided = int(np.argmax(before))
    if target is None:
        k = int(np.argsort(-before, kind="stable")[1])
    elif target not in classes:
        raise ExplainError(
            f"explain.counterfactual.target_class: '{target}' is not a class of the model "
            f"(classes: {', '.join(classes)})"
        )
    else:
        k = classes.index(target)
    if k == decided:
        raise ExplainError(
            f"explain.counterfactual.target_class: the row is already predicted '{classes[k]}'; "
            "choose another class"
        )

    def margin(s: np.ndarray) -> np.ndarray:
        others = np.delete(s, k, axis=1)
        gap: np.ndarray = s[:, k] - others.max(axis=1)
        return gap

    return Goal(classes[k], lambda s: np.argmax(s, axis=1) == k, margin, lambda s: s[:, k])


def range_goal(low: float, high: float) -> Goal:
    """Return the regression goal: the predicted value lies in ``[low, high]``."""
    return Goal(
        f"[{low:g}, {high:g}]",
        lambda v: (v >= low) & (v <= high),
        lambda v: -(np.maximum(low - v, 0) + np.maximum(v - high, 0)),
        lambda v: v,
    )


def default_range(model: TabularModel, reference: pd.DataFrame) -> tuple[float, float]:
    """Return the default regression target: the 25th to 75th percentile of the label.

    Raises:
        ExplainError: ``reference`` lacks the model's label, so no default exists.
    """
    if model.label not in reference.columns:
        raise ExplainError(
            f"explain.counterfactual.target_range: no default without the label "
            f"'{model.label}' in the reference data; set [low, high]"
        )
    low, high = np.percentile(pd.to_numeric(reference[model.label]).dropna(), [25, 75])
    return float(low), float(high)


def goal_for(
    model: TabularModel,
    before: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    target_class: str | None = None,
    target_range: Sequence[float] | None = None,
) -> Goal:
    """Return the goal of a row whose scores are ``before`` (one row), by the model's task.

    Raises:
        ExplainError: the target does not fit the model, or a regression has no range.
    """
    if model.explains == "classes":
        return class_goal(model, np.asarray(before, dtype=float).reshape(-1), target_class)
    if model.explains == "value":
        if target_range is None:
            raise ExplainError(
                "explain.counterfactual.target_range: a regression counterfactual needs [low, high]"
            )
        return range_goal(float(target_range[0]), float(target_range[1]))
    return flip_goal(float(np.ravel(before)[0]), threshold)


def find_counterfactual(  # the search's knobs, keyword-only
    model: TabularModel,
    row: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    goal: Goal | None = None,
    immutable: Collection[str] = (),
    max_changes: int = 3,
    beam_width: int = 8,
    grid: int = 15,
) -> Counterfactual | None:
    """Return the smallest feasible change of an encoded ``row`` that reaches ``goal``.

    Args:
        row: one encoded row (:meth:`FeatureSpace.encode`), shape ``[features]``.
        threshold: the binary decision is ``probability >= threshold``.
        goal: what to reach (default: :func:`goal_for` the row, e.g. the flipped decision).
        immutable: features that must keep their value.

    Returns:
        The counterfactual, or None when the row already reaches the goal or no
        change within ``max_changes`` does.
    """
    space = model.space
    origin = np.asarray(row, dtype=float).reshape(-1)
    scores = model.predict_matrix(origin[None, :])
    goal = goal or goal_for(model, scores[0], threshold=threshold)
    if bool(goal.reached(scores)[0]):
        return None
    before = float(goal.measure(scores)[0])
    moves = _moves(space, origin, immutable, grid)
    beam: list[tuple[frozenset[int], np.ndarray, float]] = [(frozenset(), origin, 0.0)]
    for _ in range(max_changes):
        states = [
            (changed | {j}, _with(x, j, v), dist + cost)
            for changed, x, dist in beam
            for j, v, cost in moves
            if j not in changed
        ]
        states = _unique(states)
        if not states:
            return None
        batch = model.predict_matrix(np.stack([s[1] for s in states]))
        flipped = list(np.flatnonzero(goal.reached(batch)))
        if flipped:
            best = min(flipped, key=lambda i: (states[i][2], sorted(states[i][0])))
            flips = _flip_test(model, goal)
            target = _tighten(model, origin, _prune(origin, states[best][1], flips), flips)
            return _result(model, origin, target, goal=goal, threshold=threshold, before=before)
        margin = goal.progress(batch)
        order = sorted(range(len(states)), key=lambda i: (-margin[i], states[i][2]))
        beam = [states[i] for i in order[:beam_width]]
    return None


def _moves(
    space: FeatureSpace, origin: np.ndarray, immutable: Collection[str], grid: int
) -> list[tuple[int, float, float]]:
    """Return every single-feature change as ``(index, new value, distance)``."""
    moves = []
    for j, spec in enumerate(space.features):
        if spec.name in immutable:
            continue
        for value in _candidates(spec, grid):
            cost = _distance(spec, origin[j], value)
            if cost > 0:
                moves.append((j, value, cost))
    return moves


def _candidates(spec: FeatureSpec, grid: int) -> list[float]:
    if spec.kind == "categorical":
        return [float(code) for code in range(len(spec.categories))]
    if spec.allowed:
        return list(spec.allowed)
    if math.isnan(spec.low):
        return []
    values = np.linspace(spec.low, spec.high, grid)
    if spec.integer:
        values = np.unique(np.round(values))
    return [float(v) for v in values]


def _distance(spec: FeatureSpec, before: float, after: float) -> float:
    if math.isnan(before):
        return 1.0
    if spec.kind == "categorical":
        return 0.0 if before == after else 1.0
    return abs(after - before) / spec.scale


def _with(x: np.ndarray, j: int, value: float) -> np.ndarray:
    out = x.copy()
    out[j] = value
    return out


def _unique(
    states: list[tuple[frozenset[int], np.ndarray, float]],
) -> list[tuple[frozenset[int], np.ndarray, float]]:
    seen: set[bytes] = set()
    out = []
    for state in states:
        key = state[1].tobytes()
        if key not in seen:
            seen.add(key)
            out.append(state)
    return out


def _flip_test(model: TabularModel, goal: Goal) -> Callable[[np.ndarray], bool]:
    def flips(x: np.ndarray) -> bool:
        return bool(goal.reached(model.predict_matrix(x[None, :]))[0])

    return flips


def _prune(
    origin: np.ndarray, target: np.ndarray, flips: Callable[[np.ndarray], bool]
) -> np.ndarray:
    """Undo each change that the flip does not need."""
    result = target.copy()
    for j in np.flatnonzero(~_same_mask(origin, result)):
        trial = _with(result, int(j), origin[j])
        if flips(trial):
            result = trial
    return result


def _tighten(
    model: TabularModel, origin: np.ndarray, target: np.ndarray, flips: Callable[[np.ndarray], bool]
) -> np.ndarray:
    """Move each numeric change back towards the original value while the flip holds."""
    result = target.copy()
    for j, spec in enumerate(model.space.features):
        if spec.kind != "numeric" or math.isnan(origin[j]) or result[j] == origin[j]:
            continue
        near, far = origin[j], result[j]
        for _ in range(_BISECT_STEPS):
            middle = (near + far) / 2
            trial = _with(result, j, round(middle) if spec.integer else middle)
            if flips(trial):
                far = trial[j]
            else:
                near = middle
        rounded = _with(result, j, _round_away(far, origin[j], spec))
        result = rounded if flips(rounded) else _with(result, j, far)
    return result


def _round_away(value: float, origin: float, spec: FeatureSpec) -> float:
    if spec.integer or spec.scale <= 0:
        return value
    exponent = math.floor(math.log10(spec.scale / 100))
    step = 10.0**exponent
    steps = math.ceil(value / step) if value >= origin else math.floor(value / step)
    rounded = round(steps * step, max(0, -exponent))
    return min(max(rounded, spec.low), spec.high)


def _same_mask(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same: np.ndarray = (np.isnan(a) & np.isnan(b)) | (a == b)
    return same


def _result(
    model: TabularModel,
    origin: np.ndarray,
    target: np.ndarray,
    *,
    goal: Goal,
    threshold: float,
    before: float,
) -> Counterfactual:
    space = model.space
    changes = tuple(
        Change(spec.name, spec.value_of(origin[j]), spec.value_of(target[j]))
        for j, spec in enumerate(space.features)
        if not _same(origin[j], target[j])
    )
    distance = sum(_distance(s, origin[j], target[j]) for j, s in enumerate(space.features))
    after = float(goal.measure(model.predict_matrix(target[None, :]))[0])
    row = {s.name: s.value_of(target[j]) for j, s in enumerate(space.features)}
    return Counterfactual(
        changes=changes,
        probability_before=before,
        probability_after=after,
        threshold=threshold,
        distance=float(distance),
        row=row,
        target=goal.target,
    )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
