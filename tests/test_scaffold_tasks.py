"""`mlops init --task`: a project per task whose pipeline runs and whose starter rules judge it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlops_gitops.policies import list_policy_cases, load_policy_set, run_policy_case
from mlops_gitops.project import init_project, list_starters, read_starter
from mlops_gitops.tasks import list_tasks, load_task
from tests.helpers import run

ROWS = 2000
# task -> the metrics its starter's min-metrics rule reads
HEADLINES = {
    "anomaly": {"roc_auc", "average_precision"},
    "clustering": {"silhouette"},
    "multiclass": {"f1_macro", "accuracy"},
    "regression": {"r2", "rmse"},
}


def test_the_starters_are_the_binary_scaffold_and_one_per_task():
    assert list_starters() == ["binary", "anomaly", "clustering", "multiclass", "regression"]
    assert set(list_starters()) <= set(list_tasks())


def test_init_task_binary_writes_the_default_scaffold(tmp_path):
    default = init_project(tmp_path / "a", remote=tmp_path / "ra", name="p")
    binary = init_project(tmp_path / "b", remote=tmp_path / "rb", name="p", task="binary")
    assert default.files == binary.files
    for rel in default.files:
        assert (default.path / rel).read_bytes() == (binary.path / rel).read_bytes(), rel


@pytest.mark.parametrize("task", ["anomaly", "clustering", "multiclass", "regression"])
def test_a_starters_quality_rules_name_the_tasks_own_metrics(tmp_path, task):
    result = init_project(tmp_path / task, remote=tmp_path / "r", task=task)
    policies = load_policy_set(result.path / "policies")
    rules = {rule.rule.id: rule.rule for rule in policies.rules}
    metrics = {m.name for m in load_task(task).metrics}
    read = {field.split(".")[-1] for field in rules["min-metrics"].requires}
    assert read == HEADLINES[task] and read <= metrics
    named = {
        field.split(".")[-1]
        for rule in rules.values()
        for field in rule.requires
        if field.startswith(("candidate.metrics.", "deltas.", "deployed.metrics."))
    }
    assert named and named <= metrics, named - metrics  # no metric of another task
    cases = list_policy_cases(policies)
    assert {c.rule.rule.id for c in cases} >= {"min-metrics", "no-regression", "no-regression-base"}
    failed = [r.detail for r in map(run_policy_case, cases) if not r.passed]
    assert failed == []


def test_a_starter_names_its_model_everywhere(tmp_path):
    result = init_project(tmp_path / "t", remote=tmp_path / "r", task="multiclass")
    model = read_starter("multiclass")["params"]["model.name"]
    assert model == "ticket-priority"
    assert (result.path / "docs" / "models" / f"{model}.md").is_file()
    assert not (result.path / "docs" / "models" / "credit-default.md").exists()
    assert f"mlops register {model}" in (result.path / "README.md").read_text()
    assert f"  {model}:\n" in (result.path / "dvc.yaml").read_text()
    assert set(result.files) == {
        p.relative_to(result.path).as_posix()
        for p in result.path.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts
    }


def _refusal(task: str) -> str:
    if task in list_tasks():
        starters = ", ".join(list_starters())
        return f"error: --task: no starter project for task '{task}'; starters: {starters}\n"
    return f"error: --task: unknown task '{task}'; tasks: {', '.join(list_tasks())}\n"


@pytest.mark.parametrize("task", ["forecasting", *sorted(set(list_tasks()) - set(list_starters()))])
def test_init_refuses_a_task_without_a_starter_in_one_line(cli, tmp_path, task):
    result = cli("init", str(tmp_path / "p"), "--task", task)
    assert result.exit_code == 1
    assert result.stderr == _refusal(task)
    assert not (tmp_path / "p").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def task_projects(tmp_path_factory) -> dict[str, Path]:
    """One project per task, scaffolded by the CLI, its pipeline run and committed on main."""
    built = {}
    for task in ("anomaly", "clustering", "multiclass", "regression"):
        root = tmp_path_factory.mktemp(task)
        init = [sys.executable, "-m", "mlops_gitops", "init", "p", "--remote", "r", "--task", task]
        assert f"task {task}" in run(init, root)
        params = root / "p" / "params.yaml"
        params.write_text(params.read_text().replace("rows: 20000", f"rows: {ROWS}"))
        run(["dvc", "repro", "-q"], root / "p")
        run(["git", "add", "-A"], root / "p")
        run(["git", "commit", "-q", "-m", "Train on the sample"], root / "p")
        run(["git", "checkout", "-q", "-b", "train"], root / "p")
        built[task] = root / "p"
    return built


def _gate(cli, root: Path, monkeypatch) -> dict[str, dict[str, str]]:
    monkeypatch.chdir(root)
    result = cli("gate", "--env", "staging", "--json", "--output", str(root.parent / "gate.json"))
    assert result.exit_code == 0, result.stderr
    decision = json.loads(result.stdout)["decision"]
    assert decision["verdict"] in {"pass", "warn"}, decision
    return {r["id"]: r for r in decision["results"]}


@pytest.mark.slow
def test_multiclass_project_trains_on_triage_and_passes_its_gate(task_projects, cli, monkeypatch):
    root = task_projects["multiclass"]
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    assert list(metrics["per_class"]) == ["high", "low", "medium"]
    assert metrics["f1_macro"] > 0.6 and set(metrics["slices"]) == {"channel", "customer_tier"}
    assert json.loads((root / "reports" / "split.json").read_text())["stratified"] is True
    results = _gate(cli, root, monkeypatch)
    assert results["min-metrics"]["outcome"] == "pass"
    assert "f1_macro" in results["min-metrics"]["message"]
    assert results["model-card-present"]["outcome"] == "pass"


@pytest.mark.slow
def test_regression_project_forecasts_on_a_time_split_and_passes_its_gate(
    task_projects, cli, monkeypatch
):
    root = task_projects["regression"]
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    assert metrics["r2"] > 0.5 and "roc_auc" not in metrics
    split = json.loads((root / "reports" / "split.json").read_text())
    assert (split["by"], split["column"], split["stratified"]) == ("time", "order_date", False)
    dates = {
        name: pd.to_datetime(pd.read_parquet(root / "data" / "prepared" / f"{name}.parquet")[
            "order_date"
        ])
        for name in ("train", "valid", "test")
    }  # fmt: skip
    assert dates["train"].max() < dates["valid"].min() <= dates["valid"].max() < dates["test"].min()
    assert (root / "plots" / "predicted_vs_actual.json").is_file()
    results = _gate(cli, root, monkeypatch)
    assert results["min-metrics"]["outcome"] == "pass"
    assert results["min-metrics"]["message"].startswith("r2 ")
    assert results["no-regression-base"]["outcome"] == "pass"


@pytest.mark.slow
def test_binary_project_passes_its_gate_on_its_metrics(project, cli, monkeypatch):
    run(["git", "checkout", "-q", "-b", "train"], project)
    results = _gate(cli, project, monkeypatch)
    assert results["min-metrics"]["outcome"] in {"pass", "warn"}  # a small sample's metrics
    assert "roc_auc" in results["min-metrics"]["message"]


@pytest.mark.slow
def test_clustering_project_segments_without_a_label_and_passes_its_gate(
    task_projects, cli, monkeypatch
):
    root = task_projects["clustering"]
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    assert 0 < metrics["silhouette"] <= 1
    sizes = json.loads((root / "plots" / "cluster_sizes.json").read_text())
    assert sizes
    results = _gate(cli, root, monkeypatch)
    assert results["min-metrics"]["outcome"] in {"pass", "warn"}


@pytest.mark.slow
def test_anomaly_project_flags_fraud_without_fitting_the_label_and_passes_its_gate(
    task_projects, cli, monkeypatch
):
    root = task_projects["anomaly"]
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    assert metrics["roc_auc"] > 0.8 and metrics["score_threshold"] == 0.0
    assert 0 < metrics["share_flagged"] <= 0.08  # contamination 0.02 on the training rows
    assert set(metrics["slices"]) == {"channel", "merchant_category"}
    histogram = json.loads((root / "plots" / "score_histogram.json").read_text())
    assert sum(record["count"] for record in histogram) == metrics["rows"]
    assert json.loads((root / "reports" / "split.json").read_text())["stratified"] is True
    results = _gate(cli, root, monkeypatch)
    assert results["min-metrics"]["outcome"] in {"pass", "warn"}  # a few frauds in the test set
    assert results["flagged-share"]["outcome"] == "pass"
