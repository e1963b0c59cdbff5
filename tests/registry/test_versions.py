"""What a registration's metadata says, read in one place."""

from __future__ import annotations

from mlops_gitops.registry.versions import label_of


def test_label_is_read_from_a_flat_or_nested_data_label_param() -> None:
    assert label_of({"params.yaml": {"data.label": "default"}}) == "default"
    assert label_of({"params.yaml": {"data": {"label": "y", "id": "row"}}}) == "y"
    assert label_of({"a.yaml": "not a mapping", "params.yaml": {"data.label": "z"}}) == "z"
    assert label_of({}) is None
