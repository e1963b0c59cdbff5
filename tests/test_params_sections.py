"""Typed params sections: one-line errors that name the field in params.yaml."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from mlops_gitops.errors import ConfigError
from mlops_gitops.params import parse_section


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int = Field(10, ge=10)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: Inner = Inner()


def test_parse_section_returns_model():
    parsed = parse_section(Outer, {"name": "x", "inner": {"rows": 12}}, "data")
    assert parsed == Outer(name="x", inner=Inner(rows=12))
    assert parse_section(Outer, parsed, "data") is parsed


def test_parse_section_names_nested_field_and_value():
    with pytest.raises(ConfigError) as info:
        parse_section(Outer, {"name": "x", "inner": {"rows": 3}}, "data")
    assert str(info.value) == (
        "params.yaml data.inner.rows: input should be greater than or equal to 10 (got 3)"
    )


def test_parse_section_refuses_unknown_key():
    with pytest.raises(ConfigError, match=r"^params.yaml data.nmae: unknown key"):
        parse_section(Outer, {"name": "x", "nmae": 1}, "data")


def test_parse_section_names_missing_field():
    with pytest.raises(ConfigError, match=r"^params.yaml data.name: field required$"):
        parse_section(Outer, {}, "data")


def _scaffold_params(tmp_path, edit=None):
    import shutil

    from mlops_gitops.params import load_params
    from mlops_gitops.project import template_root

    shutil.copy(template_root() / "params.yaml", tmp_path / "params.yaml")
    if edit:
        path = tmp_path / "params.yaml"
        path.write_text(edit(path.read_text()))
    return load_params(tmp_path)


def test_the_scaffolds_params_pass_every_section_check(tmp_path):
    from mlops_gitops.params import check_params

    check_params(_scaffold_params(tmp_path))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("    rows: 20000", "    rows: many", 1),
            "params.yaml data.sample.rows: input should be a valid integer",
        ),
        (
            lambda t: t.replace("prepare:\n", "prepare:\n  colour: red\n", 1),
            "params.yaml prepare.colour: unknown key",
        ),
    ],
)
def test_a_mistake_in_any_section_is_refused_before_a_stage_works(
    tmp_path, monkeypatch, capsys, edit, message
):
    from mlops_gitops import stage

    _scaffold_params(tmp_path, edit)
    monkeypatch.chdir(tmp_path)
    ran = []
    assert stage.run_stage(lambda: ran.append(True), name="ingest") == 1
    assert ran == []  # the stage did no work
    assert message in capsys.readouterr().err


def test_mlops_params_exits_1_on_an_unknown_key(tmp_path, monkeypatch, cli):
    _scaffold_params(tmp_path, lambda t: t.replace("prepare:\n", "prepare:\n  colour: red\n", 1))
    monkeypatch.chdir(tmp_path)
    result = cli("params")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: params.yaml prepare.colour: unknown key")
