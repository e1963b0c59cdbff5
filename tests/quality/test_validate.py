"""Validation: the schema from params, the report, and a blocking failure's one-line reason."""

from __future__ import annotations

import json

import pytest

from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.quality import (
    ValidationFailed,
    collect_pii_values,
    find_pii_leaks,
    protect_pii,
    validate_dataset,
    validate_frame,
    validate_protected,
)

PII = ["full_name", "email", "phone", "national_id"]


def check(frame, sections, **schema):
    return validate_frame(frame, data=sections["data"], schema={**sections["schema"], **schema})


def only_failure(report):
    assert not report.passed
    assert len(report.failures) == 1, report.failures
    return report.failures[0]


def test_sample_passes_every_check(small_sample, sections):
    report = check(small_sample, sections)
    assert report.passed and not report.blocking and report.reason is None
    assert report.rows == 400 and report.columns == 28
    assert all(c.passed for c in report.checks)
    assert {"customer_id", "income", "default"} <= {c.column for c in report.checks}
    assert report.missing["income"] > 0 and "loan_amount" not in report.missing
    assert report.unchecked_columns == []


def test_strings_in_a_numeric_column_fail_its_dtype(small_sample, sections):
    frame = small_sample.astype({"income": object})
    frame.loc[7, "income"] = "forty thousand"
    failure = only_failure(check(frame, sections))
    assert (failure.column, failure.check, failure.expected) == ("income", "dtype", "float64")
    assert failure.examples == ["forty thousand"] and failure.rows == [7]


def test_unknown_category_fails_allowed(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[[1, 2], "region"] = "atlantis"
    failure = only_failure(check(frame, sections))
    assert (failure.column, failure.check, failure.count) == ("region", "allowed", 2)
    assert failure.examples == ["atlantis"]
    assert failure.expected == "one of: north, south, east, west, central"


def test_duplicate_ids_fail_unique(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[5, "customer_id"] = frame.loc[6, "customer_id"]
    failure = only_failure(check(frame, sections))
    assert (failure.column, failure.check, failure.rows) == ("customer_id", "unique", [5, 6])


def test_missing_pii_column_fails_present(small_sample, sections):
    failure = only_failure(check(small_sample.drop(columns=["phone"]), sections))
    assert (failure.column, failure.check) == ("phone", "present")
    assert failure.describe() == "phone: column is missing"


def test_declared_pii_column_is_required_even_without_a_column_rule(small_sample, sections):
    columns = {k: v for k, v in sections["schema"]["columns"].items() if k != "phone"}
    report = check(small_sample.drop(columns=["phone"]), sections, columns=columns)
    assert (only_failure(report).column, only_failure(report).check) == ("phone", "present")


def test_out_of_range_and_missing_values_fail(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[3, "loan_amount"] = -100.0
    frame.loc[4, "default"] = None
    failed = {(f.column, f.check): f for f in check(frame, sections).failures}
    assert failed[("loan_amount", "min")].examples == [-100.0]
    assert failed[("default", "nullable")].rows == [4]


def test_integer_column_is_a_valid_float_column(small_sample, sections):
    frame = small_sample.assign(num_dependents=small_sample["num_dependents"].astype("int64"))
    assert check(frame, sections).passed


def test_strict_schema_refuses_undeclared_columns(small_sample, sections):
    frame = small_sample.assign(notes="free text")
    assert check(frame, sections).unchecked_columns == ["notes"]
    failure = only_failure(check(frame, sections, strict=True))
    assert (failure.column, failure.check) == ("notes", "declared")


def test_failure_examples_never_show_pii(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[0, "email"] = f"{frame.loc[0, 'full_name']} (no e-mail)"
    frame.loc[1, "region"] = frame.loc[1, "national_id"]
    frame.loc[2, "housing"] = f"lives with {frame.loc[2, 'full_name']}"
    report = check(frame, sections)
    failed = {(f.column, f.check): f for f in report.failures}
    assert failed[("email", "pattern")].examples == ["<redacted>"]
    assert failed[("region", "allowed")].examples == ["<redacted>"]
    assert failed[("housing", "allowed")].examples == ["<redacted>"]
    text = report.model_dump_json()
    values = collect_pii_values(small_sample, PII) | collect_pii_values(frame, PII)
    assert not any(v in text for found in values.values() for v in found)


def test_validate_dataset_writes_report_then_raises_one_line_reason(
    tmp_path, small_sample, sections
):
    raw = tmp_path / "dataset.parquet"
    frame = small_sample.astype({"income": str})  # a whole column of text, as a bad export gives
    frame.loc[9, "income"] = "n/a!"
    frame.to_parquet(raw)
    report_path = tmp_path / "reports" / "validation.json"
    with pytest.raises(ValidationFailed) as info:
        validate_dataset(
            raw=raw, validation_report=report_path, **{k: sections[k] for k in ("data", "schema")}
        )
    message = str(info.value)
    assert "\n" not in message
    assert "income dtype: expected float64" in message and "see " in message
    report = json.loads(report_path.read_text())
    assert report["passed"] is False and report["blocking"] is True
    assert report["failures"][0]["column"] == "income"
    assert report["reason"] in message
    values = collect_pii_values(small_sample, PII)
    assert find_pii_leaks(values, [report_path]) == []


def test_non_blocking_failure_writes_report_and_returns(tmp_path, small_sample, sections):
    raw = tmp_path / "dataset.parquet"
    small_sample.assign(region="atlantis").to_parquet(raw)
    schema = {**sections["schema"], "fail_on_error": False}
    result = validate_dataset(
        raw=raw, validation_report=tmp_path / "v.json", data=sections["data"], schema=schema
    )
    assert not result.passed and not result.blocking
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is False


def test_report_format_is_documented_fields(tmp_path, small_sample, sections):
    raw = tmp_path / "dataset.parquet"
    small_sample.to_parquet(raw)
    validate_dataset(
        raw=raw,
        validation_report=tmp_path / "v.json",
        data=sections["data"],
        schema=sections["schema"],
    )
    report = json.loads((tmp_path / "v.json").read_text())
    assert list(report) == [
        "version", "dataset", "passed", "blocking", "rows", "columns", "checks", "failures",
        "missing", "pii_columns", "sensitive_columns", "unchecked_columns", "reason",
    ]  # fmt: skip
    assert report["checks"][0] == {
        "column": "customer_id",
        "check": "present",
        "expected": "column present",
        "passed": True,
    }


def test_missing_raw_file_is_a_data_error(tmp_path, sections):
    with pytest.raises(DataError, match=r"dataset\.parquet: not found; run the ingest stage"):
        validate_dataset(
            raw=tmp_path / "dataset.parquet",
            validation_report=tmp_path / "v.json",
            **{k: sections[k] for k in ("data", "schema")},
        )


def test_invalid_column_rule_names_the_field(small_sample, sections):
    columns = {**sections["schema"]["columns"], "income": {"type": "decimal"}}
    with pytest.raises(ConfigError, match=r"^params.yaml schema.columns.income.type: input should"):
        check(small_sample, sections, columns=columns)


def pii_then_protected(frame, sections, action="drop", **schema):
    """What the pipeline does: PII checks on raw values, then the rest on the protected table."""
    schema = {**sections["schema"], **schema}
    pii = validate_frame(frame, data=sections["data"], schema=schema, part="pii")
    protected = protect_pii(frame, PII, action, salt="pepper")
    return pii, validate_protected(protected, pii, data=sections["data"], schema=schema)


def test_pii_checks_run_on_the_raw_pii_columns_only(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[7, "email"] = "not-an-address"
    frame.loc[8, "income"] = -1.0  # not a PII column: not ingest's to check
    report = validate_frame(frame, data=sections["data"], schema=sections["schema"], part="pii")
    assert {c.column for c in report.checks} == set(PII)
    assert (report.rows, report.columns) == (400, 28)
    failure = only_failure(report)
    assert (failure.column, failure.check, failure.rows) == ("email", "pattern", [7])
    assert failure.examples == ["<redacted>"]


@pytest.mark.parametrize("action", ["drop", "hash", "mask"])
def test_protected_table_passes_with_the_pii_checks_merged(small_sample, sections, action):
    _, report = pii_then_protected(small_sample, sections, action, strict=True)
    assert report.passed and report.reason is None
    whole = check(small_sample, sections, strict=True)
    assert sorted((c.column, c.check) for c in report.checks) == sorted(
        (c.column, c.check) for c in whole.checks
    )
    assert (report.rows, report.columns, report.pii_columns) == (400, 28, PII)


def test_pii_failure_found_at_ingest_fails_and_blocks_the_merged_report(small_sample, sections):
    frame = small_sample.copy()
    frame.loc[2, "email"] = frame.loc[2, "full_name"]
    frame.loc[4, "region"] = "atlantis"
    _, report = pii_then_protected(frame, sections)
    assert report.blocking and not report.passed
    assert {(f.column, f.check) for f in report.failures} == {
        ("email", "pattern"),
        ("region", "allowed"),
    }
    assert "email pattern" in report.reason and "region allowed" in report.reason
    values = collect_pii_values(frame, PII)
    text = report.model_dump_json()
    assert not any(v in text for found in values.values() for v in found)


def test_validate_dataset_merges_the_pii_report_that_ingest_wrote(tmp_path, small_sample, sections):
    frame = small_sample.copy()
    frame.loc[1, "phone"] = None
    pii, _ = pii_then_protected(frame, sections)
    (tmp_path / "pii.json").write_text(pii.model_dump_json())
    protect_pii(frame, PII, "drop").to_parquet(tmp_path / "dataset.parquet")
    with pytest.raises(
        ValidationFailed, match=r"phone nullable: expected no missing values, 1 fail"
    ):
        validate_dataset(
            raw=tmp_path / "dataset.parquet",
            validation_report=tmp_path / "validation.json",
            pii_report=tmp_path / "pii.json",
            **{k: sections[k] for k in ("data", "schema")},
        )
    written = json.loads((tmp_path / "validation.json").read_text())
    assert (written["passed"], written["missing"]["phone"]) == (False, 1)


def test_pii_report_of_another_table_is_refused(small_sample, sections):
    pii = validate_frame(
        small_sample.head(10), data=sections["data"], schema=sections["schema"], part="pii"
    )
    protected = protect_pii(small_sample, PII, "drop")
    with pytest.raises(DataError, match=r"checked 10 rows .* the table has 400 rows"):
        validate_protected(protected, pii, data=sections["data"], schema=sections["schema"])


def test_unreadable_pii_report_names_the_file(tmp_path, small_sample, sections):
    small_sample.to_parquet(tmp_path / "dataset.parquet")
    (tmp_path / "pii.json").write_text('{"passed": true}')
    for report, message in (
        (tmp_path / "none.json", "not found"),
        (tmp_path / "pii.json", "not a"),
    ):
        with pytest.raises(DataError, match=rf"{report.name}: {message}"):
            validate_dataset(
                raw=tmp_path / "dataset.parquet",
                validation_report=tmp_path / "v.json",
                pii_report=report,
                **{k: sections[k] for k in ("data", "schema")},
            )


@pytest.mark.parametrize(
    ("task", "values", "passes"),
    [
        ("regression", [12.5, 3.25, 7.0], True),  # a float label under regression
        ("binary", [12.5, 3.25, 7.0], False),  # binary labels are 0/1 integers
        ("multiclass", ["red", "green", "blue"], True),  # class names of any type
        ("multiclass", [3, 1, 2], True),
        ("anomaly", [0, 1, 0], True),
    ],
)
def test_an_undeclared_label_is_typed_by_the_task(task, values, passes):
    import pandas as pd

    frame = pd.DataFrame({"row_id": ["a", "b", "c"], "y": values})
    report = validate_frame(frame, data={"label": "y", "id_column": "row_id"}, schema={}, task=task)
    assert report.passed is passes, report.failures
    if not passes:
        assert (report.failures[0].column, report.failures[0].check) == ("y", "dtype")


def test_an_undeclared_label_of_any_type_still_may_not_be_missing():
    import pandas as pd

    frame = pd.DataFrame({"row_id": ["a", "b"], "y": ["red", None]})
    report = validate_frame(
        frame, data={"label": "y", "id_column": "row_id"}, schema={}, task="multiclass"
    )
    assert [(f.column, f.check) for f in report.failures] == [("y", "nullable")]
