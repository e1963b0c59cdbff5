"""Counterfactuals: the smallest feasible change to a row that flips the model's decision.

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
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from mlops_gitops.explain.explained_model import FeatureSpace, FeatureSpec, TabularModel

_BISECT_STEPS = 12


@dataclass(frozen=True)
class Change:
    """One feature changed by a counterfactual."""

    feature: str
    before: object
    after: object


@dataclass(frozen=True, kw_only=True)
class Counterfactual:
    """A changed row whose decision differs from the original's."""

    changes: tuple[Change, ...]
    probability_before: float
    probability_after: float
    threshold: float
    distance: float
    row: dict[str, object]


def find_counterfactual(
    model: TabularModel,
    row: np.ndarray,
    *,
    threshold: float = 0.5,
    immutable: Collection[str] = (),
    max_changes: int = 3,
    beam_width: int = 8,
    grid: int = 15,
) -> Counterfactual | None:
    """Return the smallest feasible change of an encoded ``row`` that flips its decision.

    Args:
        row: one encoded row (:meth:`FeatureSpace.encode`), shape ``[features]``.
        threshold: the decision is ``probability >= threshold``.
        immutable: features that must keep their value.

    Returns:
        The counterfactual, or None when no flip exists within ``max_changes``.
    """
    space = model.space
    origin = np.asarray(row, dtype=float).reshape(-1)
    before = float(model.predict_matrix(origin[None, :])[0])
    positive = before >= threshold
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
        probabilities = model.predict_matrix(np.stack([s[1] for s in states]))
        flipped = [i for i, p in enumerate(probabilities) if (p >= threshold) != positive]
        if flipped:
            best = min(flipped, key=lambda i: (states[i][2], sorted(states[i][0])))
            flips = _flip_test(model, threshold=threshold, positive=positive)
            target = _tighten(model, origin, _prune(origin, states[best][1], flips), flips)
            return _result(model, origin, target, threshold=threshold, before=before)
        margin = (threshold - probabilities) if positive else (probabilities - threshold)
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


def _flip_test(
    model: TabularModel, *, threshold: float, positive: bool
) -> Callable[[np.ndarray], bool]:
    def flips(x: np.ndarray) -> bool:
        return bool((model.predict_matrix(x[None, :])[0] >= threshold) != positive)

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
    model: TabularModel, origin: np.ndarray, target: np.ndarray, *, threshold: float, before: float
) -> Counterfactual:
    space = model.space
    changes = tuple(
        Change(spec.name, spec.value_of(origin[j]), spec.value_of(target[j]))
        for j, spec in enumerate(space.features)
        if not _same(origin[j], target[j])
    )
    distance = sum(_distance(s, origin[j], target[j]) for j, s in enumerate(space.features))
    after = float(model.predict_matrix(target[None, :])[0])
    row = {s.name: s.value_of(target[j]) for j, s in enumerate(space.features)}
    return Counterfactual(
        changes=changes,
        probability_before=before,
        probability_after=after,
        threshold=threshold,
        distance=float(distance),
        row=row,
    )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
