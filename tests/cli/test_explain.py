"""``mlops explain``: one decision of a registered version explained, and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlops_gitops.explain.settings import ExplainSettings


def test_explain_without_a_version_or_model_path_fails_in_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "row.json").write_text("{}")
    result = cli("explain", "credit-default", "--input", "row.json")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: give exactly one of --version (a registered version) and --model-path"
    )


def test_explain_of_a_local_model_without_data_names_the_missing_split(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "row.json").write_text("{}")
    result = cli("explain", "credit-default", "--model-path", "model.onnx", "--input", "row.json")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: data/prepared/train.parquet: not found; run 'dvc pull' or 'dvc repro prepare' first"
    )


def _declined_row(project) -> dict[str, object]:
    from mlops_gitops.explain.explained_model import load_tabular_model

    train = pd.read_parquet(project / "data" / "prepared" / "train.parquet")
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
    model = load_tabular_model(project / "models" / "model.onnx", train)
    row = test.iloc[int(model.predict_proba(test).argmax())]
    return {k: (None if pd.isna(v) else v) for k, v in row.items() if k != "default"}


@pytest.mark.slow
def test_explain_a_registered_version_with_a_counterfactual(cli, project, tmp_path):
    from mlops_gitops import scm
    from mlops_gitops.registry import register

    if scm.is_dirty(project):  # the copy points .dvc/config at its own remote
        scm.commit_all("Use the copied DVC remote", project)
    register(project, "credit-default", version="v0.1.0")
    row = tmp_path / "row.json"
    row.write_text(json.dumps(_declined_row(project)))
    result = cli(
        "explain", "credit-default", "--version", "v0.1.0", "--input", str(row),
        "--counterfactual", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    explained = json.loads(result.stdout)
    assert explained["positive"] and explained["method"] == "shap"
    assert len(explained["contributions"]) == ExplainSettings().top
    assert explained["text"].startswith("**Declined.**")
    changes = explained["counterfactual"]["changes"]
    assert changes and not {c["feature"] for c in changes} & {"age_band", "sex"}
    assert explained["counterfactual"]["probability_after"] < explained["threshold"]


@pytest.mark.slow
def test_explain_a_local_model_prints_wording_and_a_table(cli, project, tmp_path):
    row = tmp_path / "row.json"
    row.write_text(json.dumps(_declined_row(project)))
    result = cli(
        "explain", "credit-default", "--model-path", "models/model.onnx", "--input", str(row),
        "--method", "lime",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "declined mainly because of" in result.stdout
    assert "contribution (lime, probability)" in result.stdout
