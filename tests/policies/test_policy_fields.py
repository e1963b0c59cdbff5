"""Field paths against the bundle schema: existence, example values, lookups."""

from __future__ import annotations

from datetime import datetime

import pytest

from mlops_gitops.policies.engine import ABSENT, ANY_INDEX
from mlops_gitops.policies.fields import FREE, is_absent, probe_activation, schema_at, value_at


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (("candidate", "metrics", "roc_auc"), "number"),
        (("approvals", "reviews", ANY_INDEX, "counted"), "boolean"),
        (("change", "soak_hours"), "number"),
        (("now",), "string"),
    ],
)
def test_typed_fields(path, kind):
    assert schema_at(path)["type"] == kind


def test_free_form_fields_accept_any_path():
    assert schema_at(("candidate", "params", "model", "name")) is FREE
    assert schema_at(("validation", "report", "checks", ANY_INDEX)) is FREE
    assert schema_at(("fairness", "by_group")) is FREE


@pytest.mark.parametrize(
    "path",
    [
        ("candidate", "metricz"),
        ("approvals", "reviews", "counted"),
        ("changed_files", ANY_INDEX, "x"),
    ],
)
def test_unknown_fields(path):
    assert schema_at(path) is None


def test_probe_holds_example_values_of_the_schema_types():
    probe = probe_activation(
        [
            ("candidate", "metrics", "f1"),
            ("approvals", "reviews", ANY_INDEX, "counted"),
            ("now",),
            ("vars", "x"),
        ],
        {"x": 1},
    )
    assert probe["candidate"] == {"metrics": {"f1": 0.5}}
    assert probe["approvals"]["reviews"][0]["counted"] is True
    assert isinstance(probe["now"], datetime) and probe["vars"] == {"x": 1}
    whole = probe_activation([("approvals", "reviews"), ("target", "kind")], {})
    assert (
        whole["approvals"]["reviews"][0]["reviewer"] == "x"
        and whole["target"]["kind"] == "training"
    )
    assert probe_activation([("candidate", "params", "a")], {}) is None
    assert probe_activation([("candidate", "metricz")], {}) is None


def test_value_lookup():
    data = {"a": {"b": [1, 2]}, "n": None}
    assert value_at(data, ("a", "b", 1)) == 2
    assert value_at(data, ("a", "b", ANY_INDEX)) == [1, 2]
    assert value_at(data, ("a", "c")) == ABSENT
    assert is_absent(data, ("a", "b", 5)) and not is_absent(data, ("n",))
