"""The one reader of user documents: file:line syntax errors and one-line validation errors."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from mlops_gitops.documents import parse_json, read_yaml, validate_yaml
from mlops_gitops.errors import ConfigError


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int = 0


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item] = []
    title: str = ""


def test_a_yaml_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "d.yaml").write_text("a: 1\nb: [1,\n")
    with pytest.raises(ConfigError, match=r"d\.yaml:3: not valid YAML \(") as err:
        read_yaml(tmp_path / "d.yaml")
    assert "\n" not in str(err.value)


def test_a_json_syntax_error_names_file_and_line():
    with pytest.raises(ConfigError, match=r"^x\.json:2: not valid JSON \("):
        parse_json('{\n  "a": oops}', "x.json")


def test_a_wrong_type_names_the_line_and_field_path():
    with pytest.raises(ConfigError, match=r"^d:2 title: input should be a valid string$"):
        validate_yaml(Doc, "items: []\ntitle: [1]\n", "d")


def test_a_nested_list_item_is_named_by_its_index():
    text = "items:\n  - name: a\n  - name: b\n    size: big\n"
    with pytest.raises(ConfigError, match=r"^d:4 items\.1\.size: input should be a valid integer"):
        validate_yaml(Doc, text, "d")


def test_an_unknown_key_names_its_line():
    with pytest.raises(
        ConfigError, match=r"^d:2 colour: unknown field; remove it or fix its spelling$"
    ):
        validate_yaml(Doc, "items: []\ncolour: red\n", "d")


def test_an_empty_file_is_an_empty_mapping():
    assert validate_yaml(Doc, "", "d") == Doc()


def test_a_top_level_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigError, match=r"^d:1 \(top level\): input should be a valid dict"):
        validate_yaml(Doc, "- 1\n", "d")


def test_a_missing_field_is_named():
    with pytest.raises(ConfigError, match=r"^d:2 items\.0\.name: required field is missing$"):
        validate_yaml(Doc, "items:\n  - size: 1\n", "d")
