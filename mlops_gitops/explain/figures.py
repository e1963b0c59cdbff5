"""The explanation figures, drawn with matplotlib into PNG files.

SHAP summary (beeswarm) and dependence plots, the importance bar chart, the
surrogate decision tree and the association heatmap. Each function writes
one file and returns its path; matplotlib and shap are imported only here,
with the non-interactive Agg backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlops_gitops.explain.attribution import Attributions
from mlops_gitops.explain.decision import Surrogate, node_labels
from mlops_gitops.explain.explained_model import FeatureSpace

DPI = 100


def _pyplot() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return path


def _explanation(attributions: Attributions, space: FeatureSpace) -> Any:
    import shap

    return shap.Explanation(
        values=attributions.values,
        base_values=attributions.base_values,
        data=space.encode(attributions.data),
        feature_names=list(attributions.features),
    )


def draw_shap_summary(attributions: Attributions, space: FeatureSpace, path: Path) -> Path:
    """Draw the SHAP beeswarm: each row's contribution per feature, coloured by value."""
    import shap

    plt = _pyplot()
    figure = plt.figure(figsize=(8, 6))
    shap.plots.beeswarm(
        _explanation(attributions, space), max_display=15, show=False, plot_size=None
    )
    plt.title(f"SHAP values ({attributions.output_space})")
    return _save(plt, figure, path)


def draw_shap_dependence(
    attributions: Attributions, space: FeatureSpace, feature: str, path: Path
) -> Path:
    """Draw how one feature's value drives its SHAP contribution."""
    import shap

    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    j = attributions.features.index(feature)
    shap.plots.scatter(_explanation(attributions, space)[:, j], ax=axis, show=False)
    spec = space.spec(feature)
    if spec.kind == "categorical":
        axis.set_xticks(range(len(spec.categories)), spec.categories, rotation=30)
    axis.set_title(f"SHAP dependence: {feature}")
    return _save(plt, figure, path)


def draw_importance(importance: Mapping[str, float], path: Path, *, title: str) -> Path:
    """Draw a horizontal bar chart of importance, largest on top."""
    plt = _pyplot()
    names = sorted(importance, key=lambda n: importance[n])
    figure, axis = plt.subplots(figsize=(7, 0.3 * len(names) + 1.2))
    axis.barh(names, [importance[n] for n in names], color="#1E88E5")
    axis.set_title(title)
    axis.axvline(0, color="#333333", linewidth=0.8)
    return _save(plt, figure, path)


def draw_surrogate(surrogate: Surrogate, path: Path) -> Path:
    """Draw the surrogate decision tree with category sets in its split labels."""
    from sklearn.tree import plot_tree

    plt = _pyplot()
    figure, axis = plt.subplots(
        figsize=(4 * 2 ** max(surrogate.depth - 1, 0), 2.2 * surrogate.depth + 2)
    )
    annotations = plot_tree(surrogate.tree, ax=axis, filled=True, impurity=False, fontsize=8)
    # Node boxes come in node order; the unboxed True/False edge labels stay as they are.
    boxes = [a for a in annotations if a.get_bbox_patch() is not None]
    for annotation, label in zip(boxes, node_labels(surrogate), strict=True):
        annotation.set_text(label)
    axis.set_title(f"Surrogate decision tree (fidelity {surrogate.fidelity:.1%})")
    return _save(plt, figure, path)


def draw_association(matrix: pd.DataFrame, path: Path) -> Path:
    """Draw the feature association heatmap (-1 to 1)."""
    plt = _pyplot()
    size = 0.35 * len(matrix) + 2
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(matrix.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu_r")
    axis.set_xticks(np.arange(len(matrix)), matrix.columns, rotation=90, fontsize=7)
    axis.set_yticks(np.arange(len(matrix)), matrix.index, fontsize=7)
    figure.colorbar(image, ax=axis, shrink=0.7, label="association")
    axis.set_title("Feature association")
    return _save(plt, figure, path)
