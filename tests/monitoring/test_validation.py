"""Real-time validation of requests against the reference schema."""

from __future__ import annotations

import numpy as np

from mlops_gitops.monitoring.input_schema import (
    InputSchema,
    infer_schema,
    validate_batch,
    validate_row,
)
from tests.helpers.monitoring import make_frame


def _schema() -> InputSchema:
    frame = make_frame(500, seed=3)
    frame.loc[0, "region"] = None
    return infer_schema(frame, ["income", "age", "region"])


def test_schema_is_inferred_from_the_reference_and_round_trips_as_json() -> None:
    schema = _schema()
    income, age, region = schema.features
    assert income.kind == "numeric" and not income.nullable
    assert age.minimum == 20.0 and age.maximum == 69.0
    assert region.kind == "categorical" and region.nullable
    assert region.categories == ("east", "north", "south", "west")
    assert InputSchema.model_validate_json(schema.model_dump_json()) == schema


def test_valid_row_has_no_violation() -> None:
    assert validate_row(_schema(), {"income": 50.0, "age": 30, "region": "north"}) == []


def test_row_violations_are_named_by_column_and_kind() -> None:
    found = validate_row(_schema(), {"income": "lots", "age": 130, "region": "moon", "extra": 1})
    assert [(v.column, v.kind) for v in found] == [
        ("income", "type"),
        ("age", "out_of_range"),
        ("region", "unknown_category"),
        ("extra", "unknown_column"),
    ]
    assert validate_row(_schema(), {"age": None, "region": None})[0].kind == "missing_column"


def test_batch_counts_violations_and_marks_invalid_rows() -> None:
    result = validate_batch(
        _schema(),
        {
            "income": np.array([50.0, np.nan, 40.0, 45.0]),
            "age": [30, 31, 200, 40],
            "region": np.array(["north", "south", None, "mars"], dtype=object),
        },
    )
    assert result.rows == 4
    assert result.counts == {
        ("income", "missing"): 1,
        ("age", "out_of_range"): 1,
        ("region", "unknown_category"): 1,
    }
    assert result.invalid_rows == (1, 2, 3)
    assert not result.ok


def test_batch_with_text_in_a_numeric_column_reports_type() -> None:
    result = validate_batch(
        _schema(), {"income": ["50", "n/a"], "age": [30, 40], "region": ["east", "west"]}
    )
    assert result.counts == {("income", "type"): 1}
    assert result.invalid_rows == (1,)


def test_batch_missing_a_column_invalidates_every_row() -> None:
    result = validate_batch(_schema(), {"income": [50.0, 51.0], "age": [30, 30]})
    assert result.counts == {("region", "missing_column"): 2}
    assert result.invalid_rows == (0, 1)
