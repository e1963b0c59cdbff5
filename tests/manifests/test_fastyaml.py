"""The fast manifest reader agrees with the round-trip parser, or defers to it."""

from __future__ import annotations

import pytest

from mlops_gitops.manifests import Manifest, ManifestError, parse_manifest
from mlops_gitops.manifests.fastyaml import FastYamlError, load_fast
from mlops_gitops.roundtrip import parse_roundtrip

SCALARS = [
    "010", "0o17", "1_000", "0x1F", "0b101", "+12", "-0", "1.5e3", ".5", "-.5", "0.", "1e3",
    "1_0.5", ".inf", "-.Inf", "2026-01-01", "2026-01-01T10:00:00Z", "~", "null", "", "on",
    "yes", "No", "true", "False", '"010"', "'x'", "v1.2.0", "500m", "1Gi", "1.0.0",
]  # fmt: skip


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_resolve_as_in_yaml_1_2(scalar: str) -> None:
    text = f"value: {scalar}\n"
    fast, slow = load_fast(text)["value"], parse_roundtrip(text, "x")["value"]
    assert fast == slow
    assert isinstance(slow, type(fast))


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "a: [\n", "base: &b {x: 1}\nc:\n  <<: *b\n"])
def test_what_it_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(FastYamlError):
        load_fast(text)


def test_duplicate_keys_are_an_error_with_a_line() -> None:
    with pytest.raises(ManifestError, match=r"^x:3: not valid YAML"):
        parse_manifest("models: {}\nserving: {}\nserving: {}\n", "x")


def test_merge_keys_are_read_by_the_round_trip_parser() -> None:
    text = "monitoring:\n  base: &b {psi: 0.2}\n  drift:\n    <<: *b\n    window: 7\n"
    assert parse_manifest(text, "x").monitoring["drift"] == {"psi": 0.2, "window": 7}
    assert Manifest.model_validate(parse_roundtrip(text, "x")).monitoring["drift"]["psi"] == 0.2
