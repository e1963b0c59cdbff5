"""Ingest: PII checked on its raw values in memory, then protected before the first write."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from mlops_gitops.data import ingest
from mlops_gitops.data.sample import generate_sample
from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.quality import collect_pii_values, find_pii_leaks

PII = ["full_name", "email", "phone", "national_id"]
SAMPLE = {"source": "sample", "sample": {"rows": 200, "seed": 3}}


def run_ingest(tmp_path, sections, data=None, **schema):
    out = tmp_path / "data" / "raw" / "dataset.parquet"
    report = tmp_path / "reports" / "pii_validation.json"
    result = ingest(
        raw=out,
        data={**sections["data"], **(data or SAMPLE)},
        schema={**sections["schema"], **schema},
        pii_report=report,
    )
    return result, pd.read_parquet(out), json.loads(report.read_text())


def raw_values():
    return collect_pii_values(generate_sample(200, 3), PII)


def test_ingest_writes_the_table_without_pii_and_the_pii_checks(tmp_path, sections):
    result, table, report = run_ingest(tmp_path, sections)
    assert (result.rows, result.columns, result.connector) == (200, 24, "sample")
    assert not set(PII) & set(table.columns)
    assert (result.pii_action, result.pii_passed) == ("drop", True)
    assert report["passed"] and report["dataset"] == "sample"
    assert (report["rows"], report["columns"]) == (200, 28)
    assert {c["column"] for c in report["checks"]} == set(PII)
    assert {"present", "dtype", "nullable", "pattern"} <= {c["check"] for c in report["checks"]}
    assert find_pii_leaks(raw_values(), [tmp_path]) == []


def test_ingest_gives_the_same_bytes_for_the_same_params(tmp_path, sections):
    run_ingest(tmp_path, sections)
    out = tmp_path / "data" / "raw" / "dataset.parquet"
    first = out.read_bytes()
    run_ingest(tmp_path, sections)
    assert out.read_bytes() == first, "the same params must give the same bytes (DVC hash)"
    assert sorted(p.name for p in out.parent.iterdir()) == ["dataset.parquet"]


@pytest.mark.parametrize("action", ["hash", "mask"])
def test_hashed_or_masked_columns_hold_no_raw_value(tmp_path, sections, monkeypatch, action):
    monkeypatch.setenv("MLOPS_PII_SALT", "pepper")
    _, table, _ = run_ingest(tmp_path, sections, pii_action=action)
    assert set(PII) <= set(table.columns)
    assert find_pii_leaks(raw_values(), [tmp_path]) == []


def test_hash_is_salted_sha256_and_keeps_joins(tmp_path, sections, monkeypatch):
    monkeypatch.setenv("MLOPS_PII_SALT", "pepper")
    _, table, _ = run_ingest(tmp_path, sections, pii_action="hash")
    original = generate_sample(200, 3).set_index("customer_id")
    row = table.iloc[0]
    email = original.loc[row["customer_id"], "email"]
    assert row["email"] == hashlib.sha256(f"pepper{email}".encode()).hexdigest()
    assert table["national_id"].is_unique


def test_mask_keeps_the_shape_only(tmp_path, sections):
    _, table, _ = run_ingest(tmp_path, sections, pii_action="mask")
    assert table["phone"].str.fullmatch(r"\+\*-\*\*\*-\*\*\*-\*\*\*\*").all()
    assert table["email"].str.contains("@").all()


def test_hash_without_the_salt_variable_is_refused_before_any_write(tmp_path, sections):
    with pytest.raises(ConfigError, match="hash needs a salt; set the environment variable"):
        run_ingest(tmp_path, sections, pii_action="hash")
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_a_salt_in_params_is_refused(tmp_path, sections):
    with pytest.raises(ConfigError, match=r"^params.yaml schema.pii_salt: unknown key"):
        run_ingest(tmp_path, sections, pii_action="hash", pii_salt="in-git")


def test_bad_pii_values_are_recorded_redacted_and_never_written(tmp_path, sections, small_sample):
    frame = small_sample.copy()
    frame.loc[[3, 5], "email"] = ["no e-mail given", None]
    frame.to_csv(tmp_path / "applicants.csv", index=False)
    data = {"source": str(tmp_path / "applicants.csv")}
    result, table, report = run_ingest(tmp_path, sections, data=data)
    assert result.pii_passed is False and "email" not in table.columns
    failed = {(f["column"], f["check"]): f for f in report["failures"]}
    assert failed[("email", "pattern")]["examples"] == ["<redacted>"]
    assert failed[("email", "pattern")]["rows"] == [3]
    assert failed[("email", "nullable")]["count"] == 1
    assert report["blocking"] is True and report["reason"].startswith(str(tmp_path))
    values = collect_pii_values(frame, PII)
    assert find_pii_leaks(values, [tmp_path / "data", tmp_path / "reports"]) == []


def test_declared_pii_column_absent_from_the_source_is_refused(tmp_path, sections, small_sample):
    small_sample.drop(columns=["phone"]).to_parquet(tmp_path / "nophone.parquet")
    with pytest.raises(DataError, match=r"PII column\(s\) phone declared in schema\.pii"):
        run_ingest(tmp_path, sections, data={"source": str(tmp_path / "nophone.parquet")})
    assert not (tmp_path / "data").exists()
