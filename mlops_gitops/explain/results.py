"""Write what the explain stage computed: DVC metrics and plots, figures, the stakeholder report.

Files (paths from :class:`ExplainPaths`):

- ``metrics/explain.json``: importance per feature (permutation, native,
  mean absolute attribution per explainer), mutual information, surrogate
  fidelity; numbers only, so ``dvc metrics diff`` compares versions;
- ``metrics/fairness.json``: parity differences and per-group metrics under
  the key ``fairness`` (so policies read ``fairness.demographic_parity_difference``);
- ``plots/importance.json``: one row per feature, for ``dvc plots``;
- ``reports/explain/``: ``report.md`` and ``report.html`` (the stakeholder
  report, linked from the model card) and ``feature_selection.json``, DVC
  outputs; the PNG figures under ``figures/`` (DVC image plots, kept in Git).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops.digest import file_md5
from mlops_gitops.explain.narrative import display, render_template
from mlops_gitops.outputs import prepare_outputs, write_json
from mlops_gitops.roundtrip import write_atomic
from mlops_gitops.tasks import explained_as

if TYPE_CHECKING:
    from mlops_gitops.explain.analysis import ExplainPaths, Explanations

REPORT_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html.j2"
REPORT_FILES = ("report.md", "report.html")
SELECTION_FILE = "feature_selection.json"
# metrics/fairness.json nests its figures under this key: metrics files are
# flattened into one namespace (dvc metrics, the policy bundle), where the
# gate reads fairness.demographic_parity_difference.
FAIRNESS_KEY = "fairness"
# A feature whose association with a sensitive attribute reaches this may act as its proxy.
PROXY_ASSOCIATION = 0.3


def write_outputs(explanations: Explanations, paths: ExplainPaths) -> list[Path]:
    """Write every output of the explain stage and return their paths."""
    report_dir = Path(paths.report_dir)
    prepare_outputs(
        paths.metrics, paths.fairness, paths.importance_plot, report_dir / "figures",
        *(report_dir / name for name in (*REPORT_FILES, SELECTION_FILE)),
    )  # fmt: skip
    written = [
        write_json(paths.metrics, explain_metrics(explanations)),
        write_json(paths.fairness, {FAIRNESS_KEY: explanations.fairness}),
        write_json(paths.importance_plot, {"importance": importance_rows(explanations)}),
        write_json(report_dir / SELECTION_FILE, _selection(explanations)),
    ]
    figures = draw_figures(explanations, report_dir / "figures")
    context = report_context(explanations, figures=figures, base=report_dir)
    for template, name in zip((REPORT_TEMPLATE, HTML_TEMPLATE), REPORT_FILES, strict=True):
        text = render_template(template, context, html=name.endswith(".html"))
        write_atomic(report_dir / name, text)
        written.append(report_dir / name)
    return [*written, *figures.values()]


def explain_metrics(explanations: Explanations) -> dict[str, object]:
    """Return the content of ``metrics/explain.json`` (numbers only, stable keys)."""
    metrics: dict[str, object] = {
        "baseline_score": explanations.importance.baseline,
        "importance": dict(explanations.importance.mean),
    }
    if explanations.native is not None:
        metrics["native_importance"] = explanations.native
    metrics["attribution"] = {name: a.mean_abs() for name, a in explanations.attributions.items()}
    by_class = {
        name: a.mean_abs_by_class() for name, a in explanations.attributions.items() if a.classes
    }
    if by_class:  # multiclass: each class's own attributions
        metrics["attribution_by_class"] = by_class
    metrics["mutual_information"] = explanations.information
    if explanations.surrogate is not None:
        metrics["surrogate_fidelity"] = explanations.surrogate.fidelity
    examples = explanations.examples
    found = sum(1 for e in examples if e.counterfactual is not None)
    metrics["counterfactuals_found"] = found / len(examples) if examples else None
    metrics["drop_candidates"] = len(explanations.selection.drop_candidates)
    return metrics


def importance_rows(explanations: Explanations) -> list[dict[str, object]]:
    """Return the importance plot rows, most important first."""
    importance = explanations.importance
    return [
        {"feature": name, "importance": importance.mean[name], "std": importance.std[name]}
        for name in importance.ranked()
    ]


def _selection(explanations: Explanations) -> dict[str, object]:
    selection = explanations.selection
    return {"ranked": list(selection.ranked), "drop_candidates": list(selection.drop_candidates)}


def draw_figures(explanations: Explanations, folder: Path) -> dict[str, Path]:
    """Draw the report's figures into ``folder`` and return them by name."""
    from mlops_gitops.explain import figures

    space = explanations.model.space
    out = {
        "importance": figures.draw_importance(
            explanations.importance.mean,
            folder / "importance.png",
            title=f"Permutation importance (drop in {explanations.importance.scoring})",
        ),
        "association": figures.draw_association(
            explanations.association, folder / "association.png"
        ),
    }
    if explanations.surrogate is not None:
        out["surrogate"] = figures.draw_surrogate(
            explanations.surrogate, folder / "surrogate_tree.png"
        )
    shap_values = explanations.attributions.get("shap")
    if shap_values is not None and len(shap_values.values):
        # multiclass: each row by its predicted class (attribution_by_class has every class)
        shap_values = shap_values.for_decisions()
        out["shap_summary"] = figures.draw_shap_summary(
            shap_values, space, folder / "shap_summary.png"
        )
        ranked = sorted(shap_values.mean_abs().items(), key=lambda kv: -kv[1])
        for feature, _ in ranked[: explanations.settings.shap.dependence]:
            out[f"dependence_{feature}"] = figures.draw_shap_dependence(
                shap_values, space, feature, folder / f"shap_dependence_{feature}.png"
            )
    return out


def report_context(
    explanations: Explanations, *, figures: dict[str, Path], base: Path
) -> dict[str, Any]:
    """Return what the report templates see (plain values only)."""
    model = explanations.model
    importance = explanations.importance
    return {
        "model": {
            "path": str(model.path),
            "md5": file_md5(model.path),
            "family": model.family,
            "features": len(model.space.names),
        },
        "task": model.task.name,
        "explains": model.explains,
        "classes": list(model.classes),
        "not_applicable": explanations.not_applicable,
        "threshold": explanations.threshold,
        "scoring": importance.scoring,
        "baseline": importance.baseline,
        "against": importance.against,
        "headline": model.task.headline,
        "described": explained_as(model.task),
        "importance": _importance_table(explanations),
        "figures": {name: path.relative_to(base).as_posix() for name, path in figures.items()},
        "examples": [
            {"text": e.text, "method": e.method, "probability": e.probability}
            for e in explanations.examples
        ],
        "local": _local_rows(explanations),
        "surrogate": {
            "fidelity": explanations.surrogate.fidelity,
            "rules": explanations.surrogate.rules,
        }
        if explanations.surrogate is not None
        else None,
        "selection": _selection(explanations),
        "fairness": explanations.fairness,
        "proxies": _proxies(explanations),
        "settings": explanations.settings.model_dump(mode="json"),
        "display": display,
    }


def _importance_table(explanations: Explanations) -> list[dict[str, Any]]:
    importance = explanations.importance
    attributions = explanations.attributions
    shap_means = attributions["shap"].mean_abs() if "shap" in attributions else {}
    return [
        {
            "feature": name,
            "importance": importance.mean[name],
            "std": importance.std[name],
            "native": (explanations.native or {}).get(name),
            "shap": shap_means.get(name),
            "mutual_information": explanations.information.get(name),
        }
        for name in importance.ranked()
    ]


def _local_rows(explanations: Explanations) -> list[dict[str, Any]]:
    top = explanations.settings.top
    return [
        {"method": name, "row": i, "top": attributions.top(i, top)}
        for name, attributions in explanations.attributions.items()
        if name != "shap"
        for i in range(len(attributions.values))
    ]


def _proxies(explanations: Explanations) -> list[dict[str, Any]]:
    matrix = explanations.association
    measured = explanations.fairness.get("by_attribute")
    names = list(measured) if isinstance(measured, dict) else []
    sensitive = [c for c in names if c in matrix.columns]
    pairs = [
        {"feature": f, "attribute": s, "association": float(matrix.loc[f, s])}
        for s in sensitive
        for f in explanations.model.space.names
        if f != s and abs(float(matrix.loc[f, s])) >= PROXY_ASSOCIATION
    ]
    return sorted(pairs, key=lambda p: -abs(p["association"]))
