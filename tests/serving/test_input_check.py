"""The request-path screen of the training schema agrees with ``validate_batch``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_gitops.monitoring.config import MonitoringConfigError
from mlops_gitops.monitoring.input_schema import FeatureSchema, InputSchema, validate_batch
from mlops_gitops.serving.codec import decode_records
from mlops_gitops.serving.model import ModelSchema, ServedInput, VersionSession
from mlops_gitops.serving.plan import ValidationSettings, read_plan
from mlops_gitops.serving.validation import compile_check, rejection

MODEL_SCHEMA = ModelSchema(
    (
        ServedInput("age", "numeric", "tensor(float)"),
        ServedInput("income", "numeric", "tensor(double)"),
        ServedInput("region", "categorical", "tensor(string)"),
    ),
    (),
)
TRAINING = InputSchema(
    features=(
        FeatureSchema(name="age", kind="numeric", minimum=18.0, maximum=80.0),
        FeatureSchema(name="income", kind="numeric", nullable=True, minimum=0.0, maximum=200.0),
        FeatureSchema(name="region", kind="categorical", categories=("east", "north", "south")),
    )
)
# The model object is only read for its name and input schema here (no ONNX session).
MODEL = VersionSession(
    name="credit",
    version="v1.0.0",
    md5="0" * 32,
    path=Path("model.onnx"),
    session=None,  # type: ignore[arg-type]
    schema=MODEL_SCHEMA,
)

ages = st.one_of(st.floats(0, 100), st.just(math.nan), st.none())
regions = st.one_of(st.sampled_from(["east", "north", "south", "west", ""]), st.none())
records = st.fixed_dictionaries(
    {"age": ages, "income": st.one_of(st.floats(-10, 300), st.none()), "region": regions}
)


@settings(max_examples=200, deadline=None)
@given(st.lists(records, min_size=1, max_size=6))
def test_screen_finds_exactly_what_validate_batch_finds(batch):
    rows = decode_records({"instances": batch}, MODEL_SCHEMA)
    expected = validate_batch(TRAINING, rows)
    found = compile_check(TRAINING, MODEL, reject=False).check(rows)
    if expected.ok:
        assert found is None
    else:
        assert found is not None
        assert dict(found.counts) == dict(expected.counts)
        assert found.invalid_rows == expected.invalid_rows


def test_missing_values_pass_only_where_the_training_data_had_them():
    check = compile_check(TRAINING, MODEL, reject=True)
    fine = decode_records(
        {"instances": [{"age": 30, "income": None, "region": "east"}]}, MODEL_SCHEMA
    )
    bad = decode_records({"instances": [{"age": None, "income": 1, "region": None}]}, MODEL_SCHEMA)
    assert check.check(fine) is None
    found = check.check(bad)
    assert found is not None
    assert dict(found.counts) == {("age", "missing"): 1, ("region", "missing"): 1}
    error = rejection(found, bad, check=check, route="v1", payload={})
    assert error.message == (
        "instances[0].age: no value for 'age', which the training data always had "
        "(1 of 1 row(s) violate the training schema)"
    )


def test_schema_of_other_kinds_than_the_model_is_checked_whole():
    coded = InputSchema(
        features=(
            *TRAINING.features[:2],
            FeatureSchema(name="region", kind="numeric", minimum=0.0, maximum=2.0),
        )
    )
    check = compile_check(coded, MODEL, reject=False)
    rows = decode_records({"instances": [{"age": 30, "income": 1, "region": "3"}]}, MODEL_SCHEMA)
    found = check.check(rows)
    assert check.exact is False
    assert found is not None and dict(found.counts) == {("region", "out_of_range"): 1}


def test_rejection_names_the_first_invalid_row_and_the_expected_values():
    check = compile_check(TRAINING, MODEL, reject=True)
    batch = [
        {"age": 30, "income": 1, "region": "east"},
        {"age": 30, "income": 1, "region": "west"},
        {"age": 90, "income": 1, "region": "west"},
    ]
    rows = decode_records({"instances": batch}, MODEL_SCHEMA)
    found = check.check(rows)
    assert found is not None
    error = rejection(found, rows, check=check, route="v1", payload={"instances": batch})
    assert (error.status, error.field) == (422, "instances[1].region")
    assert error.message == (
        "instances[1].region: 'west' for 'region' is a category the training data never had "
        "(known: east, north, south) (2 of 3 row(s) violate the training schema)"
    )
    payload = {"inputs": [{"name": "region"}, {"name": "age"}]}
    error = rejection(found, rows, check=check, route="v2", payload=payload)
    assert error.field == "inputs[0].data[1]"


def _project(tmp_path: Path, monitoring: str) -> Path:
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "environments.yaml").write_text("environments:\n  dev: {}\n")
    (tmp_path / "envs" / "dev.yaml").write_text(f"models: {{}}\nmonitoring:\n{monitoring}")
    return tmp_path


def test_plan_reads_the_validation_settings_of_the_environment(tmp_path):
    root = _project(
        tmp_path,
        "  reference: test\n  quality: {range_tolerance: 0.1}\n  validation: {reject: true}\n",
    )
    assert read_plan(root, "dev").settings.validation == ValidationSettings(
        enabled=True, reject=True, reference="test", range_tolerance=0.1
    )


def test_invalid_validation_section_is_a_one_line_error_naming_the_field(tmp_path):
    root = _project(tmp_path, "  validation: {reject: sometimes}\n")
    with pytest.raises(MonitoringConfigError, match=r"^envs/dev.yaml monitoring.validation.reject"):
        read_plan(root, "dev")


def test_screen_of_numeric_only_batches_is_vectorised():
    numeric_only = ModelSchema(MODEL_SCHEMA.features[:2], ())
    model = VersionSession(
        name="m",
        version="v",
        md5="0" * 32,
        path=Path("m.onnx"),
        session=None,  # type: ignore[arg-type]
        schema=numeric_only,
    )
    schema = InputSchema(features=TRAINING.features[:2])
    check = compile_check(schema, model, reject=False)
    rows = decode_records(
        {"instances": [{"age": 20 + i, "income": 5.0} for i in range(50)]}, numeric_only
    )
    assert check.low.shape == (2, 1) and check.check(rows) is None
    assert np.array_equal(check.high.ravel(), [80.0, 200.0])
