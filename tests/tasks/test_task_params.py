"""``model.task`` in params.yaml: binary by default, refused before any stage works when wrong."""

from __future__ import annotations

import shutil

import pytest

from mlops_gitops import stage
from mlops_gitops.errors import ConfigError
from mlops_gitops.params import check_params, load_params, parse_section
from mlops_gitops.project import template_root
from mlops_gitops.training.settings import ModelSection


def _section(**values):
    return parse_section(ModelSection, {"name": "m", "family": "sklearn", **values}, "model")


def test_the_task_is_binary_unless_params_say_otherwise():
    assert _section().task == "binary"
    assert _section(task="regression").task == "regression"


def test_an_unknown_task_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigError) as info:
        _section(task="clusters")
    assert str(info.value) == (
        "params.yaml model.task: unknown task 'clusters'; "
        "known: anomaly, binary, clustering, multiclass, regression"
    )


def test_a_family_that_does_not_fit_the_task_is_refused_naming_what_it_fits():
    with pytest.raises(ConfigError) as info:
        _section(family="lightning", task="clustering")
    assert str(info.value) == (
        "params.yaml model.task: the lightning family fits binary, multiclass, regression, "
        "not clustering; "
        "choose one of those or another model.family"
    )


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("ranking", "params.yaml model.task: unknown task 'ranking'"),
        ("anomaly", "params.yaml model.task: the lightning family fits binary, multiclass"),
    ],
)
def test_a_wrong_task_stops_the_first_stage_before_it_works(
    tmp_path, monkeypatch, capsys, task, message
):
    text = (template_root() / "params.yaml").read_text()
    edited = text.replace("  family: sklearn ", "  family: lightning #", 1)
    edited = edited.replace("  task: binary ", f"  task: {task} #", 1)
    (tmp_path / "params.yaml").write_text(edited)
    monkeypatch.chdir(tmp_path)
    ran = []
    assert stage.run_stage(lambda: ran.append(True), name="ingest") == 1
    assert ran == []
    assert message in capsys.readouterr().err


def test_the_scaffolds_params_name_a_task_the_family_fits(tmp_path):
    shutil.copy(template_root() / "params.yaml", tmp_path / "params.yaml")
    params = load_params(tmp_path)
    check_params(params)
    assert parse_section(ModelSection, params["model"], "model").task == "binary"
