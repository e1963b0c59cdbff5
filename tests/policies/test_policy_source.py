"""Reading policy YAML files: one-line errors naming file, line, field and item."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from mlops_gitops.errors import format_chain
from mlops_gitops.policies.source import (
    PolicyError,
    format_loc,
    has_item,
    parse_document,
    read_document,
    validate,
)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    size: int = 0


class Items(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]


def test_invalid_yaml_names_the_line():
    with pytest.raises(
        PolicyError, match=r"^p\.yaml:2: not valid YAML \(but found another document\)$"
    ):
        parse_document("a: 1\n---\nb: 2\n", "p.yaml")


def test_unreadable_characters_are_one_line():
    with pytest.raises(PolicyError) as err:
        parse_document("a: \x07\n", "p.yaml")
    assert str(err.value).startswith(
        "p.yaml: not valid YAML (unacceptable character"
    ) and "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match=r"^policies/x\.yaml: file not found$"):
        read_document(tmp_path / "x.yaml", "policies/x.yaml")


def test_empty_document_has_line_one():
    doc = parse_document("", "p.yaml")
    assert doc.data is None and doc.line_of(["a"]) == 1 and not doc.is_block(["a"])


def test_unknown_field_names_the_key_line_and_the_item():
    doc = parse_document("items:\n  - id: a\n    size: 1\n    colour: red\n", "p.yaml")
    with pytest.raises(PolicyError) as err:
        validate(Items, doc)
    assert (
        str(err.value) == "p.yaml:4 item 'a' colour: unknown field; remove it or fix its spelling"
    )


def test_missing_field_names_the_item_line():
    doc = parse_document("items:\n  - size: 1\n", "p.yaml")
    with pytest.raises(PolicyError, match=r"^p\.yaml:2 items\[0\]\.id: required field is missing$"):
        validate(Items, doc)


def test_wrong_type_names_the_value_line():
    doc = parse_document("items:\n  - id: a\n    size: big\n", "p.yaml")
    with pytest.raises(
        PolicyError, match=r"^p\.yaml:3 item 'a' size: input should be a valid integer"
    ):
        validate(Items, doc)


def test_top_level_error():
    doc = parse_document("- 1\n", "p.yaml")
    with pytest.raises(PolicyError, match=r"^p\.yaml:1: input should be"):
        validate(Items, doc)


def test_unknown_top_level_key_without_node_path():
    doc = parse_document("items: []\nother: 1\n", "p.yaml")
    assert doc.key_line(["other"]) == 2
    assert doc.key_line(["items", "x"]) == 1


def test_block_scalars_are_detected():
    doc = parse_document("a: |\n  x\nb: y\n", "p.yaml")
    assert doc.is_block(["a"]) and not doc.is_block(["b"])


def test_has_item_and_format_loc():
    assert (
        has_item({"a": 1}, "a")
        and has_item([1], 0)
        and not has_item([1], 1)
        and not has_item("s", 0)
    )
    assert format_loc(["rules", 0, "where", "paths"]) == "rules[0].where.paths"


def test_an_impossible_date_names_its_line_and_value():
    with pytest.raises(PolicyError) as err:
        parse_document("waivers:\n  - id: W-1\n    expires: 2099-13-45\n", "policies/waivers.yaml")
    assert str(err.value) == "policies/waivers.yaml:3 '2099-13-45': not a valid value"
    assert format_chain(err.value).endswith(": month must be in 1..12")


def test_a_validation_error_prints_one_line_without_pydantics_dump():
    doc = parse_document("items:\n  - id: a\n    size: [1]\n", "p.yaml")
    with pytest.raises(PolicyError) as err:
        validate(Items, doc)
    shown = format_chain(err.value)
    assert shown == "p.yaml:3 item 'a' size: input should be a valid integer"
    assert "pydantic" not in shown and "\n" not in shown
