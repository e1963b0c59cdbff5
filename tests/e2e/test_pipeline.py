"""The reference pipeline end to end: real ``dvc repro``, experiments and diffs.

Each test works on a private copy of the reference project (the scaffold
with its pipeline run once on a 600-row sample, see ``tests/conftest.py``).
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import onnx
import pandas as pd
import pytest

from mlops_gitops import pipeline
from mlops_gitops.project import template_root
from mlops_gitops.roundtrip import modify_yaml
from mlops_gitops.training import load_trained_model, run_onnx

TRAINING_STAGES = ("train", "evaluate", "export")
DATA_STAGES = ("ingest", "validate", "prepare")


def _ran(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def _assert_training_and_later_ran(output: str) -> None:
    ran = _ran(output)
    assert [name for name in ran if name in TRAINING_STAGES] == list(TRAINING_STAGES)
    assert not set(ran) & set(DATA_STAGES), ran


def _onnx_matches_framework(project) -> float:
    proto = onnx.load(project / "models" / "model.onnx")
    loaded = load_trained_model(project / "models" / "trained")
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
    labels, probabilities = run_onnx(proto, test, loaded.meta.features)
    expected = loaded.predict_proba(test)
    np.testing.assert_array_equal(labels, expected.argmax(axis=1))
    return float(np.max(np.abs(probabilities - expected)))


@pytest.mark.slow
def test_repro_builds_model_metrics_plots_and_equivalent_onnx(project):
    evaluation = json.loads((project / "metrics" / "evaluate.json").read_text())
    for name in ("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss"):
        assert 0.0 <= evaluation[name] <= (10.0 if name == "log_loss" else 1.0), name
    assert set(evaluation["slices"]) == {"sex", "age_band"}
    export = json.loads((project / "metrics" / "export.json").read_text())
    assert export["onnx_max_abs_diff"] <= 1e-4 and export["onnx_label_agreement"] == 1.0
    meta = json.loads((project / "models" / "trained" / "meta.json").read_text())
    names = [f["name"] for f in meta["features"]]
    assert meta["family"] == "sklearn" and "age_band" in names
    assert not {"sex", "customer_id", "default", "full_name", "email"} & set(names)
    for plot in ("roc", "precision_recall", "confusion", "calibration"):
        assert json.loads((project / "plots" / f"{plot}.json").read_text())
    assert (project / "dvclive" / "metrics.json").exists()
    assert _onnx_matches_framework(project) <= 1e-4


@pytest.mark.slow
def test_second_repro_runs_nothing(project):
    output = pipeline.dvc("repro", cwd=project)
    assert _ran(output) == []
    assert "Data and pipelines are up to date" in output


@pytest.mark.slow
def test_changed_training_param_reruns_only_train_and_later_stages(project):
    with modify_yaml(project / "params.yaml") as params:
        params["model"]["sklearn"]["learning_rate"] = 0.2
    status = pipeline.dvc("status", "--json", cwd=project)
    assert list(json.loads(status)) == ["train"]
    output = pipeline.dvc("repro", cwd=project)
    _assert_training_and_later_ran(output)
    params_diff = json.loads(pipeline.dvc("params", "diff", "--json", cwd=project))
    changed = params_diff["params.yaml"]["model.sklearn.learning_rate"]
    assert (changed["old"], changed["new"]) == (0.1, 0.2)
    metrics_diff = json.loads(pipeline.dvc("metrics", "diff", "--json", cwd=project))
    assert "roc_auc" in metrics_diff["metrics/evaluate.json"]
    plots = json.loads(pipeline.dvc("plots", "diff", "--json", cwd=project))
    assert "errors" not in plots
    shown = set(plots["data"])
    assert {"plots/roc.json", "plots/confusion.json", "plots/calibration.json"} <= shown
    assert "dvclive/plots/metrics/valid/log_loss.tsv" in shown


@pytest.mark.slow
def test_two_estimators_are_compared_metric_by_metric_with_dvc_metrics_diff(project):
    with modify_yaml(project / "params.yaml") as params:
        params["model"]["sklearn"] = {"estimator": "random_forest", "n_estimators": 30}
    _assert_training_and_later_ran(pipeline.dvc("repro", cwd=project))
    params_diff = json.loads(pipeline.dvc("params", "diff", "--json", cwd=project))
    changed = params_diff["params.yaml"]["model.sklearn.estimator"]
    assert (changed["old"], changed["new"]) == ("hist_gradient_boosting", "random_forest")
    metrics_diff = json.loads(pipeline.dvc("metrics", "diff", "--json", cwd=project))
    evaluated = metrics_diff["metrics/evaluate.json"]
    for name in ("roc_auc", "f1", "log_loss"):  # the same metrics, both estimators' values
        assert {"old", "new", "diff"} <= set(evaluated[name]), name
        assert evaluated[name]["new"] - evaluated[name]["old"] == pytest.approx(
            evaluated[name]["diff"]
        )


@pytest.mark.slow
def test_exp_run_switches_to_lightning_with_an_equivalent_onnx(project):
    output = pipeline.dvc(
        "exp",
        "run",
        "-S",
        "model.family=lightning",
        "-S",
        "model.lightning.max_epochs=1",
        cwd=project,
    )
    _assert_training_and_later_ran(output)
    meta = json.loads((project / "models" / "trained" / "meta.json").read_text())
    assert meta["family"] == "lightning"
    proto = onnx.load(project / "models" / "model.onnx")
    assert {p.key: p.value for p in proto.metadata_props}["family"] == "lightning"
    assert (
        json.loads((project / "metrics" / "export.json").read_text())["onnx_max_abs_diff"] <= 1e-4
    )
    assert _onnx_matches_framework(project) <= 1e-4
    shown = json.loads(pipeline.dvc("exp", "show", "--json", cwd=project))
    assert any(exp.get("experiments") for exp in shown)


@pytest.mark.parametrize("name", TRAINING_STAGES)
def test_stage_script_is_short_and_imports_only_mlops_gitops(name):
    source = (template_root() / "stages" / f"{name}.py").read_text()
    assert len(source.splitlines()) < 25
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
    assert modules == {"mlops_gitops"}
