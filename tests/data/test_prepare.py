"""Prepare: the raw table (PII already protected by ingest) as float64 features, three files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlops_gitops.data import ingest, prepare_dataset
from mlops_gitops.errors import DataError
from mlops_gitops.quality import collect_pii_values, find_pii_leaks

PII = ["full_name", "email", "phone", "national_id"]


@pytest.fixture
def raw(tmp_path, small_sample):
    path = tmp_path / "data" / "raw" / "dataset.parquet"
    path.parent.mkdir(parents=True)
    small_sample.to_parquet(path, index=False)
    return path


def sections_of(sections):
    return {"data": sections["data"], "prepare": sections["prepare"]}


def run_prepare(raw, sections, tmp_path):
    out = tmp_path / "data" / "prepared"
    result = prepare_dataset(raw=raw, prepared_dir=out, **sections_of(sections))
    return result, {name: pd.read_parquet(path) for name, path in result.paths.items()}


def test_prepare_keeps_every_column_and_row_of_the_raw_table(raw, sections, tmp_path, small_sample):
    result, parts = run_prepare(raw, sections, tmp_path)
    assert sorted(result.paths) == ["test", "train", "valid"]
    for part in parts.values():
        assert list(part.columns) == list(small_sample.columns)
    assert sum(result.rows.values()) == len(small_sample)


@pytest.mark.parametrize("action", ["drop", "hash", "mask"])
def test_no_raw_pii_value_appears_in_any_prepared_file(
    tmp_path, sections, small_sample, monkeypatch, action
):
    monkeypatch.setenv("MLOPS_PII_SALT", "pepper")
    small_sample.to_parquet(tmp_path / "source.parquet")
    raw = tmp_path / "data" / "raw" / "dataset.parquet"
    schema = {**sections["schema"], "pii_action": action}
    data = {**sections["data"], "source": str(tmp_path / "source.parquet")}
    ingest(raw=raw, data=data, schema=schema, pii_report=tmp_path / "reports" / "pii.json")
    run_prepare(raw, sections, tmp_path)
    values = collect_pii_values(small_sample, PII)
    assert find_pii_leaks(values, [tmp_path / "source.parquet"]), "the search finds raw PII"
    assert find_pii_leaks(values, [tmp_path / "data", tmp_path / "reports"]) == []


def test_numeric_columns_are_float64_and_label_int64(raw, sections, tmp_path):
    _, parts = run_prepare(raw, sections, tmp_path)
    train = parts["train"]
    assert train["num_late_payments"].dtype == "float64"
    assert train["default"].dtype == "int64"
    assert pd.api.types.is_string_dtype(train["region"])
    assert train["income"].isna().any()


def test_integer_feature_columns_become_float64(tmp_path, sections, small_sample):
    raw = tmp_path / "ints.parquet"
    ints = small_sample["num_dependents"].astype("int64")
    small_sample.assign(num_dependents=ints).to_parquet(raw)
    _, parts = run_prepare(raw, sections, tmp_path)
    assert parts["test"]["num_dependents"].dtype == "float64"


def test_prepare_refuses_data_that_failed_blocking_validation(raw, sections, tmp_path):
    report = tmp_path / "reports" / "validation.json"
    report.parent.mkdir()
    report.write_text(json.dumps({"passed": False, "blocking": True, "reason": "income dtype"}))
    with pytest.raises(DataError, match="failed validation: income dtype"):
        prepare_dataset(
            raw=raw,
            prepared_dir=tmp_path / "out",
            validation_report=report,
            **sections_of(sections),
        )
    assert not (tmp_path / "out").exists()


def test_prepare_needs_the_validation_report(raw, sections, tmp_path):
    with pytest.raises(DataError, match=r"validation\.json: not found; run the validate stage"):
        prepare_dataset(
            raw=raw,
            prepared_dir=tmp_path / "out",
            validation_report=tmp_path / "validation.json",
            **sections_of(sections),
        )


def test_missing_raw_file_names_it(tmp_path, sections):
    with pytest.raises(DataError, match=r"dataset\.parquet: file not found"):
        prepare_dataset(
            raw=tmp_path / "dataset.parquet",
            prepared_dir=tmp_path / "out",
            **sections_of(sections),
        )


def test_the_split_report_records_how_the_rows_were_split(raw, sections, tmp_path):
    report = tmp_path / "reports" / "split.json"
    result = prepare_dataset(
        raw=raw, prepared_dir=tmp_path / "prepared", split_report=report, **sections_of(sections)
    )
    written = json.loads(report.read_text())
    assert written == result.split
    assert written["by"] == "random" and written["column"] is None
    assert written["stratified"] is True and written["seed"] == 42
    assert written["fractions"] == {"train": 0.7, "valid": 0.15, "test": 0.15}
    assert written["rows"] == result.rows


def test_a_split_by_group_is_recorded_unstratified(raw, sections, tmp_path):
    report = tmp_path / "split.json"
    prepare = {"split": {"by": "group", "column": "region"}}
    prepare_dataset(
        raw=raw, prepared_dir=tmp_path / "p", split_report=report,
        data=sections["data"], prepare=prepare,
    )  # fmt: skip
    written = json.loads(report.read_text())
    assert (written["by"], written["column"], written["stratified"]) == ("group", "region", False)
