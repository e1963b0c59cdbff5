"""The one reader of user documents: file:line syntax errors and one-line validation errors."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from mlops_gitops.documents import (
    parse_json,
    parse_json_lines,
    parse_yaml,
    read_json,
    read_yaml,
    validate_yaml,
)
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


def test_a_missing_file_can_name_the_stage_that_writes_it(tmp_path):
    with pytest.raises(ConfigError, match=r"m\.json: not found; run 'dvc repro' first$"):
        read_json(tmp_path / "m.json", missing="not found; run 'dvc repro' first")


def test_a_json_error_ends_with_the_fix(tmp_path):
    (tmp_path / "s.json").write_text("{\n  x")
    with pytest.raises(ConfigError, match=r"s\.json:2: not valid JSON \(.*\); fix or delete it$"):
        read_json(tmp_path / "s.json", fix="fix or delete it")


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "b.yaml").write_bytes(b"a: \xff\n")
    with pytest.raises(ConfigError, match=r"b\.yaml: not UTF-8 text$"):
        read_yaml(tmp_path / "b.yaml")


def test_json_lines_keep_their_line_numbers():
    assert parse_json_lines('{"a": 1}\n\n[2]\n', "h.jsonl") == [(1, {"a": 1}), (3, [2])]
    with pytest.raises(ConfigError, match=r"^h\.jsonl:2: not valid JSON \("):
        parse_json_lines('{"a": 1}\n{oops\n', "h.jsonl")


def test_yaml_bytes_parse_like_text():
    assert parse_yaml(b"a: [1]\n", "x") == {"a": [1]}
    with pytest.raises(ConfigError, match=r"^x:2: not valid YAML \("):
        parse_yaml(b"a: [\n", "x")


def test_a_malformed_dvc_lock_names_the_file_and_line():
    from mlops_gitops.errors import PipelineError
    from mlops_gitops.pipeline import parse_lock_stages

    with pytest.raises(PipelineError, match=r"^dvc\.lock:2: not valid YAML \(") as err:
        parse_lock_stages("stages: [\n", "dvc.lock")
    assert "\n" not in str(err.value)


def test_a_malformed_yaml_metrics_file_names_the_file_and_line():
    from mlops_gitops.policies.snapshots import parse_data
    from mlops_gitops.policies.source import PolicyError

    with pytest.raises(PolicyError, match=r"^metrics/m\.yaml:2: not valid YAML \("):
        parse_data("auc: [\n", "metrics/m.yaml")
