"""Explanations follow the model's task: multiclass (load_wine) and regression (load_diabetes).

The models are prepared, trained and exported by the real pipeline
functions; every check runs the ONNX model through ONNX Runtime.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

from mlops_gitops.explain import (
    explain_model,
    explain_row,
    find_counterfactual,
    kernel_shap,
    lime_attributions,
    load_tabular_model,
    permutation_importance,
    tree_shap,
)
from mlops_gitops.explain.analysis import compute_explanations, encoded_labels
from mlops_gitops.explain.counterfactual import class_goal, range_goal
from mlops_gitops.explain.explained_model import ExplainError
from mlops_gitops.explain.fairness import fairness_of
from mlops_gitops.explain.results import write_outputs
from mlops_gitops.explain.settings import parse_settings
from mlops_gitops.tasks.binary import BinaryTask

pytestmark = pytest.mark.slow

SETTINGS = {
    "permutation": {"rows": 60, "n_repeats": 2, "scoring": None},
    "shap": {"rows": 20, "agnostic_rows": 3, "background_rows": 15, "nsamples": 60,
             "dependence": 1},
    "lime": {"rows": 2, "num_samples": 150},
    "counterfactual": {"rows": 2},
    "correlation": {"rows": 100},
    "surrogate": {"rows": 100},
}  # fmt: skip
CLASSES = ("class_0", "class_1", "class_2")


def _loaded(tiny):
    return load_tabular_model(tiny.onnx, tiny.train, trained_dir=tiny.trained)


def _explain(tiny, counterfactual=None):
    settings = {**SETTINGS, "counterfactual": {"rows": 2, **(counterfactual or {})}}
    cwd = os.getcwd()
    os.chdir(tiny.folder)
    try:
        return explain_model(settings=settings, label="target", sensitive=["group"])
    finally:
        os.chdir(cwd)


def _read(tiny, path):
    return (tiny.folder / path).read_text()


def test_multiclass_stage_explains_each_class_and_writes_its_report(wine_model):
    result = _explain(wine_model)
    assert result.model.classes == CLASSES and result.importance.scoring == "f1_macro"
    metrics = json.loads(_read(wine_model, "metrics/explain.json"))
    assert set(metrics["attribution_by_class"]) == {"shap", "lime"}
    assert set(metrics["attribution_by_class"]["shap"]) == set(CLASSES)
    assert set(metrics["attribution_by_class"]["shap"]["class_0"]) == set(metrics["importance"])
    assert 0 <= metrics["surrogate_fidelity"] <= 1 and metrics["counterfactuals_found"] == 1.0
    fairness = json.loads(_read(wine_model, "metrics/fairness.json"))["fairness"]
    assert set(fairness["by_class"]["group"]) == set(CLASSES)
    assert set(fairness["by_group"]["group"]) == {"high", "low"}
    assert {"accuracy", "f1_macro", "count"} <= set(fairness["by_group"]["group"]["low"])
    assert fairness["demographic_parity_difference"] == max(
        c["demographic_parity_difference"] for c in fairness["by_class"]["group"].values()
    )
    report = _read(wine_model, "reports/explain/report.md")
    assert "the most probable of class_0, class_1, class_2" in report
    assert "**Predicted class class_" in report and "The prediction becomes class_" in report
    assert "| group | count | accuracy | f1_macro |" in report
    assert "figures/shap_summary.png" in report
    assert "f1 macro" in _read(wine_model, "reports/explain/report.html")


def test_regression_stage_explains_the_value_and_says_the_surrogate_does_not_apply(
    diabetes_model,
):
    result = _explain(diabetes_model, {"target_range": [120, 150]})
    assert result.importance.scoring == "rmse" and result.surrogate is None
    for example in result.examples:
        assert 120 <= example.counterfactual.probability_after <= 150
    metrics = json.loads(_read(diabetes_model, "metrics/explain.json"))
    assert "surrogate_fidelity" not in metrics and "attribution_by_class" not in metrics
    assert metrics["counterfactuals_found"] == 1.0
    fairness = json.loads(_read(diabetes_model, "metrics/fairness.json"))["fairness"]
    groups = fairness["by_group"]["group"]
    assert fairness["mae_difference"] == pytest.approx(
        abs(groups["high"]["mae"] - groups["low"]["mae"])
    )
    report = _read(diabetes_model, "reports/explain/report.md")
    assert "the decision is the predicted value" in report
    assert "surrogate does not apply to a regression model" in report
    assert "**Predicted value" in report and "The prediction reaches [120, 150]" in report
    assert not (diabetes_model.folder / "reports/explain/figures/surrogate_tree.png").exists()


def test_tree_shap_is_additive_per_class_and_softmax_gives_the_onnx_probabilities(wine_model):
    model = _loaded(wine_model)
    rows = wine_model.test.head(12)
    shap_values = tree_shap(model, rows)
    assert shap_values.values.shape == (12, len(model.space.names), 3)
    logits = shap_values.base_values + shap_values.values.sum(axis=1)
    np.testing.assert_allclose(logits, shap_values.output, atol=1e-9)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax, model.predict_proba(rows), atol=1e-5)
    decided = shap_values.for_decisions()
    np.testing.assert_array_equal(shap_values.decided, model.predict_proba(rows).argmax(axis=1))
    assert decided.values.shape == (12, len(model.space.names))


def test_kernel_shap_and_lime_explain_every_class(wine_model):
    model = _loaded(wine_model)
    rows, background = wine_model.test.head(2), wine_model.train.head(15)
    values = kernel_shap(model, rows, background=background, nsamples=80)
    total = values.base_values + values.values.sum(axis=1)
    np.testing.assert_allclose(total, model.predict_proba(rows), atol=1e-5)
    lime = lime_attributions(model, rows, background=background, num_samples=150)
    assert lime.classes == CLASSES and lime.values.shape == (2, len(model.space.names), 3)
    np.testing.assert_allclose(lime.base_values + lime.values.sum(axis=1), lime.output)


def test_shap_is_additive_for_the_regression_value(diabetes_model):
    model = _loaded(diabetes_model)
    rows = diabetes_model.test.head(10)
    values = tree_shap(model, rows)
    assert values.output_space == "value"
    total = values.base_values + values.values.sum(axis=1)
    np.testing.assert_allclose(total, model.predict_proba(rows), rtol=1e-4)
    agnostic = kernel_shap(
        replace(model, native=None), rows.head(2), background=diabetes_model.train.head(15),
        nsamples=60,
    )  # fmt: skip
    np.testing.assert_allclose(
        agnostic.base_values + agnostic.values.sum(axis=1), model.predict_proba(rows.head(2)),
        rtol=1e-5,
    )  # fmt: skip


def test_multiclass_counterfactual_reaches_the_target_class(wine_model):
    model = _loaded(wine_model)
    for _, row in wine_model.test.head(3).iterrows():
        frame = row.to_frame().T
        scores = model.predict_proba(frame)[0]
        target = next(c for k, c in enumerate(CLASSES) if k != int(scores.argmax()))
        encoded = model.space.encode(frame)[0]
        found = find_counterfactual(
            model, encoded, goal=class_goal(model, scores, target), max_changes=4
        )
        assert found is not None and found.target == target
        after = model.predict_proba(_frame(model, found.row))[0]
        assert CLASSES[int(after.argmax())] == target
        assert found.probability_after == pytest.approx(after[CLASSES.index(target)])


def test_regression_counterfactual_reaches_the_target_range(diabetes_model):
    model = _loaded(diabetes_model)
    frame = diabetes_model.test.iloc[[0]]
    value = float(model.predict_proba(frame)[0])
    low, high = value + 30, value + 60
    found = find_counterfactual(
        model, model.space.encode(frame)[0], goal=range_goal(low, high), max_changes=4
    )
    assert found is not None
    after = float(model.predict_proba(_frame(model, found.row))[0])
    assert low <= after <= high and found.probability_after == pytest.approx(after)


def test_a_target_that_is_not_a_class_of_the_model_is_refused_in_one_line(wine_model):
    model = _loaded(wine_model)
    scores = model.predict_proba(wine_model.test.head(1))[0]
    with pytest.raises(ExplainError) as caught:
        class_goal(model, scores, "merlot")
    assert str(caught.value) == (
        "explain.counterfactual.target_class: 'merlot' is not a class of the model "
        "(classes: class_0, class_1, class_2)"
    )


def test_permutation_importance_takes_the_tasks_metrics_only(diabetes_model):
    model = _loaded(diabetes_model)
    rows = model.space.encode(diabetes_model.test)
    labels = encoded_labels(model, diabetes_model.test, "target", origin="test")
    importance = permutation_importance(model, rows, labels, scoring="mae", n_repeats=1)
    assert importance.scoring == "mae" and max(importance.mean.values()) > 0
    with pytest.raises(ExplainError, match=r"^explain.permutation.scoring: 'roc_auc' is not a "
                       r"metric of the regression model \(known: rmse, mae, r2, mape"):  # fmt: skip
        permutation_importance(model, rows, labels, scoring="roc_auc")


def test_regression_fairness_is_the_error_per_group(diabetes_model):
    model = _loaded(diabetes_model)
    test = diabetes_model.test
    fairness = fairness_of(
        model, test, test["target"].to_numpy(float), threshold=0.5, sensitive=["group"]
    )
    errors = np.abs(test["target"].to_numpy(float) - model.predict_proba(test))
    low = test["group"].to_numpy() == "low"
    assert fairness["by_group"]["group"]["low"]["mae"] == pytest.approx(errors[low].mean())
    assert fairness["by_group"]["group"]["high"]["count"] == int((~low).sum())
    rmse_gap = abs(np.sqrt((errors[low] ** 2).mean()) - np.sqrt((errors[~low] ** 2).mean()))
    assert fairness["rmse_difference"] == pytest.approx(rmse_gap)


class _NoFairnessTask(BinaryTask):
    """A binary task whose analyses say fairness and counterfactuals do not apply."""

    name = "screening"
    explanations = ("surrogate",)


def test_analyses_a_task_does_not_name_are_reported_as_not_applicable(tree_model, tmp_path):
    from mlops_gitops.explain.analysis import ExplainPaths

    model = replace(_loaded(tree_model), task=_NoFairnessTask())
    result = compute_explanations(
        model, tree_model.train, tree_model.test, settings=parse_settings(SETTINGS),
        label="default", sensitive=["sex"],
    )  # fmt: skip
    assert result.fairness == {
        "applies": False,
        "reason": "fairness does not apply to a screening model",
    }
    assert result.examples and all(e.counterfactual is None for e in result.examples)
    paths = ExplainPaths(
        model=str(tree_model.onnx), metrics=str(tmp_path / "explain.json"),
        fairness=str(tmp_path / "fairness.json"), importance_plot=str(tmp_path / "plot.json"),
        report_dir=str(tmp_path / "report"),
    )  # fmt: skip
    write_outputs(result, paths)
    report = (tmp_path / "report" / "report.md").read_text()
    assert "fairness does not apply to a screening model." in report
    assert json.loads((tmp_path / "fairness.json").read_text())["fairness"]["applies"] is False


def test_explain_row_of_a_regression_model_with_a_default_target_range(diabetes_model, tmp_path):
    row = diabetes_model.test.drop(columns=["target", "row_id", "group"]).iloc[0].to_dict()
    (tmp_path / "row.json").write_text(json.dumps(row))
    explained = explain_row(
        diabetes_model.folder, tmp_path / "row.json", model="diabetes",
        model_path=diabetes_model.onnx, with_counterfactual=True,
    )  # fmt: skip
    model = _loaded(diabetes_model)
    value = float(model.predict_proba(diabetes_model.test.iloc[[0]])[0])
    assert explained.task == "regression" and explained.decision == pytest.approx(value)
    assert explained.text.startswith(f"**Predicted value {value:.4g}**")
    low, high = np.percentile(diabetes_model.train["target"], [25, 75])
    if low <= value <= high:
        assert explained.counterfactual is None
    else:
        assert explained.counterfactual is not None
        assert low <= explained.counterfactual.probability_after <= high


def test_mlops_explain_names_the_predicted_class_of_a_multiclass_model(
    cli, wine_model, tmp_path, monkeypatch
):
    row = wine_model.test.drop(columns=["target", "row_id", "group"]).iloc[0].to_dict()
    (tmp_path / "row.json").write_text(json.dumps(row))
    monkeypatch.chdir(wine_model.folder)
    result = cli(
        "explain", "wine", "--model-path", str(wine_model.onnx), "--input",
        str(tmp_path / "row.json"), "--counterfactual", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    explained = json.loads(result.stdout)
    assert explained["task"] == "multiclass" and explained["decision"] in CLASSES
    assert explained["explained_class"] == explained["decision"]
    assert explained["counterfactual"]["target"] in set(CLASSES) - {explained["decision"]}


def _frame(model, row):
    import pandas as pd

    frame = pd.DataFrame([row], columns=list(model.space.names))
    return frame.astype({s.name: "float64" for s in model.space.features if s.kind == "numeric"})
