"""``model.sklearn`` is checked against the catalogue when params are validated, in one line."""

from __future__ import annotations

import pytest

from mlops_gitops import stage
from mlops_gitops.errors import ConfigError
from mlops_gitops.params import check_params, load_params, parse_section
from mlops_gitops.project import template_root
from mlops_gitops.training.catalogue import CATALOGUE, default_estimator
from mlops_gitops.training.estimator import Estimator
from mlops_gitops.training.families import BUILTIN_FAMILIES, family_tasks, load_family
from mlops_gitops.training.settings import ModelSection
from mlops_gitops.training.sklearn_estimators import RandomForestParams


def _section(task: str = "binary", family: str = "sklearn", **sklearn: object) -> ModelSection:
    values = {"name": "m", "family": family, "task": task, "sklearn": sklearn}
    return parse_section(ModelSection, values, "model")


def _refusal(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        _section(**kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"task": "regression", "estimator": "logistic_regression"},
            "params.yaml model.sklearn.estimator: logistic_regression fits binary, multiclass, "
            "not regression; for regression choose one of hist_gradient_boosting, "
            "linear_regression, random_forest, extra_trees, xgboost, lightgbm",
        ),
        (
            {"task": "binary", "estimator": "linear_regression"},
            "params.yaml model.sklearn.estimator: linear_regression fits regression, not binary; "
            "for binary choose one of hist_gradient_boosting, logistic_regression, "
            "random_forest, extra_trees, xgboost, lightgbm",
        ),
        (
            {"estimator": "svm"},
            f"params.yaml model.sklearn.estimator: unknown estimator 'svm'; known: "
            f"{', '.join(CATALOGUE)}",
        ),
    ],
)
def test_an_estimator_that_does_not_fit_the_task_is_refused_naming_what_does(values, message):
    assert _refusal(**values).startswith(message)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"C": 1.0}, "params.yaml model.sklearn.C: unknown key"),
        (
            {"estimator": "random_forest", "learning_rate": 0.1},
            "params.yaml model.sklearn.learning_rate: unknown key",
        ),
        ({"max_iter": "many"}, "params.yaml model.sklearn.max_iter: input should be a valid"),
        (
            {"estimator": "xgboost", "num_leaves": 8},
            "params.yaml model.sklearn.num_leaves: unknown key",
        ),
        (
            {"estimator": "lightgbm", "subsample": 0},
            "params.yaml model.sklearn.subsample: input should be greater than 0",
        ),
        (
            {"estimator": "logistic_regression", "l1_ratio": 2},
            "params.yaml model.sklearn.l1_ratio: input should be less than or equal to 1",
        ),
        (
            {"estimator": "extra_trees", "n_estimators": 0},
            "params.yaml model.sklearn.n_estimators: input should be greater than or equal to 1",
        ),
    ],
)
def test_each_estimator_refuses_keys_it_does_not_have_or_bad_values(values, message):
    assert _refusal(**values).startswith(message)


def test_every_family_refuses_a_task_it_lacks_naming_the_ones_it_fits():
    for name in BUILTIN_FAMILIES:
        fits = family_tasks(load_family(name))
        for task in {"binary", "multiclass", "regression"} - set(fits):
            assert _refusal(family=name, task=task) == (
                f"params.yaml model.task: the {name} family fits {', '.join(fits)}, not {task}; "
                "choose one of those or another model.family"
            )


def test_the_default_estimator_keeps_the_hist_gradient_boosting_keys():
    section = _section(learning_rate=0.05, max_iter=10, early_stopping=False)
    assert default_estimator("binary") == "hist_gradient_boosting"
    assert (default_estimator("clustering"), default_estimator("anomaly")) == (
        "kmeans", "isolation_forest",
    )  # fmt: skip
    assert dict(section.family_settings())["max_iter"] == 10


def test_an_estimator_whose_package_is_missing_names_the_install_command(monkeypatch):
    # A row needing a module that is not installed, as a plug-in row could be.
    row = Estimator(
        tasks=("binary",),
        params=RandomForestParams,
        requires=("not_an_installed_module",),
        install="not-an-installed-package",
    )
    monkeypatch.setitem(CATALOGUE, "random_forest", row)
    assert _refusal(estimator="random_forest") == (
        "params.yaml model.sklearn.estimator: random_forest needs not_an_installed_module, "
        "not installed; run 'pip install not-an-installed-package'"
    )


def test_a_wrong_estimator_stops_the_first_stage_before_it_works(tmp_path, monkeypatch, capsys):
    text = (template_root() / "params.yaml").read_text()
    edited = text.replace("  task: binary ", "  task: regression #", 1)
    edited = edited.replace(
        "    estimator: hist_gradient_boosting", "    estimator: logistic_regression", 1
    )
    (tmp_path / "params.yaml").write_text(edited)
    monkeypatch.chdir(tmp_path)
    ran = []
    assert stage.run_stage(lambda: ran.append(True), name="ingest") == 1
    assert ran == []
    assert (
        "params.yaml model.sklearn.estimator: logistic_regression fits" in capsys.readouterr().err
    )


def test_the_scaffolds_params_validate_with_their_estimator(tmp_path):
    (tmp_path / "params.yaml").write_text((template_root() / "params.yaml").read_text())
    params = load_params(tmp_path)
    check_params(params)
    assert params["model"]["sklearn"]["estimator"] == default_estimator("binary")
