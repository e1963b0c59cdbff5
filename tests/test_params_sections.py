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
