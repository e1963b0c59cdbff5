"""Explanations and fairness: why a model decides as it does, and for whom it errs.

The explain stage (:func:`explain_model`) computes, for one model version,
permutation and native feature importance, SHAP and LIME attributions (and
those of plug-in explainers), a surrogate decision tree, feature
correlation and a feature-selection report, counterfactuals, and fairness
metrics per sensitive group; it writes them as DVC metrics and plots and a
stakeholder report. :func:`explain_row` explains one prediction for
``mlops explain``. Heavy libraries (shap, lime, fairlearn, matplotlib) are
imported only when something is computed.
"""

from __future__ import annotations

from mlops_gitops.explain.analysis import (
    ExplainPaths,
    Explanations,
    compute_explanations,
    explain_model,
)
from mlops_gitops.explain.attribution import Attributions, ShapExplainer, kernel_shap, tree_shap
from mlops_gitops.explain.counterfactual import Change, Counterfactual, find_counterfactual
from mlops_gitops.explain.explained_model import (
    ExplainError,
    FeatureSpace,
    FeatureSpec,
    TabularModel,
    build_space,
    load_tabular_model,
)
from mlops_gitops.explain.explainers import (
    ENTRY_POINT_GROUP,
    Explainer,
    find_explainer,
    list_explainers,
)
from mlops_gitops.explain.fairness import fairness_metrics
from mlops_gitops.explain.importance import (
    Importance,
    compare_importance,
    native_importance,
    permutation_importance,
)
from mlops_gitops.explain.lime_local import LimeExplainer, lime_attributions
from mlops_gitops.explain.narrative import list_templates, render_template
from mlops_gitops.explain.prediction import (
    Contribution,
    PredictionExplanation,
    explain_prediction,
    parse_row,
)
from mlops_gitops.explain.request import explain_row
from mlops_gitops.explain.settings import ExplainSettings, parse_settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "Attributions",
    "Change",
    "Contribution",
    "Counterfactual",
    "ExplainError",
    "ExplainPaths",
    "ExplainSettings",
    "Explainer",
    "Explanations",
    "FeatureSpace",
    "FeatureSpec",
    "Importance",
    "LimeExplainer",
    "PredictionExplanation",
    "ShapExplainer",
    "TabularModel",
    "build_space",
    "compare_importance",
    "compute_explanations",
    "explain_model",
    "explain_prediction",
    "explain_row",
    "fairness_metrics",
    "find_counterfactual",
    "find_explainer",
    "kernel_shap",
    "lime_attributions",
    "list_explainers",
    "list_templates",
    "load_tabular_model",
    "native_importance",
    "parse_row",
    "parse_settings",
    "permutation_importance",
    "render_template",
    "tree_shap",
]
