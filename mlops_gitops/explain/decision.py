"""Decision paths: a shallow surrogate decision tree that mimics the model's decisions.

A boosted ensemble of hundreds of trees or a neural network has no single
path a person can read, so the view is a global surrogate: a decision tree
of ``explain.surrogate.max_depth`` fitted on the encoded training sample to
the ONNX model's own decisions. Its fidelity (the share of test rows where
it agrees with the model) says how far to trust it. Categorical splits are
shown as category sets, not codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlops_gitops.explain.explained_model import FeatureSpace


@dataclass(frozen=True)
class DecisionStep:
    """One test on a decision path."""

    feature: str
    condition: str
    value: object


@dataclass(frozen=True, kw_only=True)
class Surrogate:
    """A fitted surrogate tree, its fidelity to the model, and its rules as text."""

    fidelity: float
    depth: int
    leaves: int
    rules: str
    tree: Any = field(repr=False, compare=False)
    space: FeatureSpace = field(repr=False, compare=False)

    def path(self, row: np.ndarray) -> tuple[list[DecisionStep], float]:
        """Return the tests an encoded ``row`` passes and the leaf's positive share."""
        tree = self.tree.tree_
        node, steps = 0, []
        while tree.children_left[node] != -1:
            j = int(tree.feature[node])
            goes_left = _goes_left(tree, node, row[j])
            spec = self.space.features[j]
            steps.append(
                DecisionStep(
                    spec.name,
                    _condition(self.space, tree, node, left=goes_left),
                    spec.value_of(row[j]),
                )
            )
            node = int(tree.children_left[node] if goes_left else tree.children_right[node])
        return steps, _positive_share(tree, node)


def fit_surrogate(
    space: FeatureSpace,
    train: np.ndarray,
    decisions: np.ndarray,
    *,
    test: tuple[np.ndarray, np.ndarray],
    max_depth: int = 3,
    seed: int = 0,
) -> Surrogate:
    """Fit a decision tree to the model's ``decisions`` on ``train`` and score it on ``test``.

    Args:
        train: the encoded training sample.
        decisions: the model's 0/1 decisions for ``train``.
        test: an encoded sample and the model's decisions for it, to measure fidelity.
    """
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed, min_samples_leaf=5)
    tree.fit(train, decisions)
    fidelity = float((tree.predict(test[0]) == test[1]).mean()) if len(test[1]) else float("nan")
    rules = "\n".join(_rules(space, tree.tree_, 0, 0))
    return Surrogate(
        fidelity=fidelity,
        depth=int(tree.get_depth()),
        leaves=int(tree.get_n_leaves()),
        rules=rules,
        tree=tree,
        space=space,
    )


def _goes_left(tree: Any, node: int, value: float) -> bool:
    if np.isnan(value):
        return bool(tree.missing_go_to_left[node])
    return bool(value <= tree.threshold[node])


def _condition(space: FeatureSpace, tree: Any, node: int, *, left: bool) -> str:
    spec = space.features[int(tree.feature[node])]
    threshold = float(tree.threshold[node])
    missing = " or missing" if bool(tree.missing_go_to_left[node]) == left else ""
    if spec.kind == "categorical":
        codes = range(len(spec.categories))
        chosen = [spec.categories[c] for c in codes if (c <= threshold) == left]
        return f"{spec.name} in {{{', '.join(chosen)}}}{missing}"
    return f"{spec.name} {'<=' if left else '>'} {_number(threshold)}{missing}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _positive_share(tree: Any, node: int) -> float:
    counts = np.asarray(tree.value[node]).reshape(-1)
    if counts.size < 2 or counts.sum() == 0:
        return float("nan")
    return float(counts[-1] / counts.sum())


def _rules(space: FeatureSpace, tree: Any, node: int, depth: int) -> list[str]:
    indent = "    " * depth
    if tree.children_left[node] == -1:
        share = _positive_share(tree, node)
        return [
            f"{indent}-> positive decision for {share:.0%} of {int(tree.n_node_samples[node])} rows"
        ]
    lines = []
    for left, child in ((True, tree.children_left[node]), (False, tree.children_right[node])):
        lines.append(f"{indent}if {_condition(space, tree, node, left=left)}:")
        lines.extend(_rules(space, tree, int(child), depth + 1))
    return lines


def node_labels(surrogate: Surrogate) -> list[str]:
    """Return one readable label per node, in node order (for drawing the tree)."""
    tree = surrogate.tree.tree_
    labels = []
    for node in range(tree.node_count):
        share = _positive_share(tree, node)
        head = (
            ""
            if tree.children_left[node] == -1
            else _condition(surrogate.space, tree, node, left=True) + "?\n"
        )
        labels.append(f"{head}positive: {share:.0%}\nrows: {int(tree.n_node_samples[node])}")
    return labels
