"""Prepare: PII protected before the split, float64 features, three Parquet files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mlops_gitops.data import prepare_dataset
from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.quality import collect_pii_values, find_pii_leaks

PII = ["full_name", "email", "phone", "national_id"]


@pytest.fixture
def raw(tmp_path, small_sample):
    path = tmp_path / "data" / "raw" / "dataset.parquet"
    path.parent.mkdir(parents=True)
    small_sample.to_parquet(path, index=False)
    return path


def run_prepare(raw, sections, tmp_path, **prepare):
    out = tmp_path / "data" / "prepared"
    result = prepare_dataset(
        raw,
        out,
        data=sections["data"],
        schema=sections["schema"],
        prepare={**sections["prepare"], **prepare},
    )
    return result, {name: pd.read_parquet(path) for name, path in result.paths.items()}


def test_drop_removes_pii_columns_and_keeps_the_rest(raw, sections, tmp_path, small_sample):
    result, parts = run_prepare(raw, sections, tmp_path, pii_action="drop")
    assert sorted(result.paths) == ["test", "train", "valid"]
    expected = [c for c in small_sample.columns if c not in PII]
    for part in parts.values():
        assert list(part.columns) == expected
    assert sum(result.rows.values()) == len(small_sample)


def test_no_raw_pii_value_appears_in_any_prepared_file(raw, sections, tmp_path, small_sample):
    values = collect_pii_values(small_sample, PII)
    assert find_pii_leaks(values, [raw]), "the search must find PII in the raw data"
    for action in ("drop", "hash", "mask"):
        run_prepare(raw, sections, tmp_path, pii_action=action, pii_salt="pepper")
        assert find_pii_leaks(values, [tmp_path / "data" / "prepared"]) == [], action


def test_hash_is_salted_sha256_and_keeps_joins(raw, sections, tmp_path, small_sample):
    import hashlib

    _, parts = run_prepare(raw, sections, tmp_path, pii_action="hash", pii_salt="pepper")
    everything = pd.concat(parts.values())
    row = everything.iloc[0]
    original = small_sample.set_index("customer_id").loc[row["customer_id"]]
    assert row["email"] == hashlib.sha256(f"pepper{original['email']}".encode()).hexdigest()
    assert everything["national_id"].is_unique


def test_hash_salt_from_environment_wins(raw, sections, tmp_path, monkeypatch):
    _, with_params = run_prepare(raw, sections, tmp_path, pii_action="hash", pii_salt="a")
    monkeypatch.setenv("MLOPS_PII_SALT", "b")
    _, with_env = run_prepare(raw, sections, tmp_path, pii_action="hash", pii_salt="a")
    assert not set(with_params["train"]["email"]) & set(with_env["train"]["email"])


def test_hash_without_salt_is_refused(raw, sections, tmp_path, monkeypatch):
    monkeypatch.delenv("MLOPS_PII_SALT", raising=False)
    with pytest.raises(ConfigError, match="hash needs a salt; set the environment variable"):
        run_prepare(raw, sections, tmp_path, pii_action="hash")
    assert not (tmp_path / "data" / "prepared").exists()


def test_mask_keeps_the_shape_only(raw, sections, tmp_path):
    _, parts = run_prepare(raw, sections, tmp_path, pii_action="mask")
    phones = parts["train"]["phone"]
    assert phones.str.fullmatch(r"\+\*-\*\*\*-\*\*\*-\*\*\*\*").all()
    assert parts["train"]["email"].str.contains("@").all()


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
        prepare_dataset(raw, tmp_path / "out", validation_report=report, **sections)
    assert not (tmp_path / "out").exists()


def test_prepare_needs_the_validation_report(raw, sections, tmp_path):
    with pytest.raises(DataError, match=r"validation\.json: not found; run the validate stage"):
        prepare_dataset(
            raw, tmp_path / "out", validation_report=tmp_path / "validation.json", **sections
        )


def test_missing_raw_file_names_it(tmp_path, sections):
    with pytest.raises(DataError, match=r"dataset\.parquet: file not found"):
        prepare_dataset(tmp_path / "dataset.parquet", tmp_path / "out", **sections)


def test_declared_pii_column_absent_from_data_is_refused(tmp_path, sections, small_sample):
    raw = tmp_path / "nophone.parquet"
    small_sample.drop(columns=["phone"]).to_parquet(raw)
    with pytest.raises(DataError, match=r"PII column\(s\) phone declared in schema\.pii"):
        prepare_dataset(raw, tmp_path / "out", **sections)
