"""The site shows each task's headline metrics: the task from the registration's params."""

from __future__ import annotations

import pytest

from mlops_gitops.site.cards import headline, task_of
from mlops_gitops.site.experiments import Experiment, comparison_chart

MULTICLASS = {"accuracy": 0.9, "f1_macro": 0.8, "f1_weighted": 0.85, "log_loss": 0.3, "rows": 40}
REGRESSION = {"rmse": 12.5, "mae": 9.0, "r2": 0.41, "mape": None, "residual_mean": 0.2, "rows": 60}


def _names(metrics, task):
    return [m.name for m in headline({"metrics/evaluate.json": metrics}, task)]


@pytest.mark.parametrize(
    ("task", "metrics", "expected"),
    [
        (
            "binary",
            {"accuracy": 0.8, "f1": 0.6, "roc_auc": 0.85, "rows": 9},
            ["roc_auc", "accuracy", "f1"],
        ),
        ("multiclass", MULTICLASS, ["f1_macro", "accuracy", "f1_weighted"]),
        ("regression", REGRESSION, ["rmse", "mae", "r2"]),
    ],
)
def test_the_headline_metrics_are_the_tasks_with_its_headline_first(task, metrics, expected):
    assert _names(metrics, task) == expected


def test_a_task_this_build_does_not_know_keeps_the_files_order():
    assert _names({"b_score": 1.0, "a_score": 2.0, "rows": 3}, "ranking") == ["b_score", "a_score"]


def test_the_task_is_read_from_the_registered_params_and_defaults_to_binary():
    assert task_of({"params.yaml": {"model": {"task": "regression", "family": "sklearn"}}}) == (
        "regression"
    )
    assert task_of({"params.yaml": {"model": {"family": "sklearn"}}}) == "binary"
    assert task_of({}) == "binary"


def _experiment(name, metrics, task):
    params = {"model.task": task} if task else {}
    return Experiment(
        name=name, kind="branch", commit="0" * 40, baseline=None, params=params, metrics=metrics
    )


def test_the_experiments_chart_plots_the_headline_metric_of_their_task():
    chart = comparison_chart(
        [
            _experiment("a", REGRESSION, "regression"),
            _experiment("b", {**REGRESSION, "rmse": 10.0}, None),
        ]
    )
    assert "rmse by experiment" in chart
    binary = comparison_chart([_experiment("a", {"accuracy": 0.7, "roc_auc": 0.8}, None)])
    assert "roc_auc by experiment" in binary
