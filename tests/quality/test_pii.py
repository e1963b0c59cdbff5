"""PII protection: drop, salted hash, mask; the salt's source; the leak search."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.quality import (
    PiiSearch,
    collect_pii_values,
    find_pii_leaks,
    protect_pii,
    resolve_salt,
)
from mlops_gitops.quality.pii import mask_value

PII = ["full_name", "email", "phone", "national_id"]


@pytest.fixture
def people():
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "full_name": ["Ada Berg", "Omar Costa", None],
            "email": ["ada.berg1@example.com", "omar.costa2@example.org", "x.y3@example.net"],
            "income": [1.0, 2.0, 3.0],
        }
    )


def test_drop_removes_only_the_pii_columns(people):
    protected = protect_pii(people, ["full_name", "email"], "drop")
    assert list(protected.columns) == ["customer_id", "income"]
    assert list(people.columns)[1] == "full_name", "the input frame is not changed"


def test_hash_is_salted_sha256_and_keeps_missing_values(people):
    protected = protect_pii(people, ["full_name", "email"], "hash", salt="s1")
    assert protected.loc[0, "full_name"] == hashlib.sha256(b"s1Ada Berg").hexdigest()
    assert pd.isna(protected.loc[2, "full_name"])
    other = protect_pii(people, ["full_name"], "hash", salt="s2")
    assert other.loc[0, "full_name"] != protected.loc[0, "full_name"]


def test_mask_replaces_letters_and_digits_only():
    assert mask_value("ada.berg1@example.com") == "***.*****@*******.***"
    assert mask_value("+1-555-010-1234") == "+*-***-***-****"
    assert mask_value("Zoë Ångström") == "*** ********"


def test_hash_without_salt_is_refused(people):
    with pytest.raises(ConfigError, match="hash needs a non-empty salt"):
        protect_pii(people, ["email"], "hash")


def test_absent_pii_column_is_refused(people):
    with pytest.raises(DataError, match=r"PII column\(s\) phone declared in schema.pii"):
        protect_pii(people, ["email", "phone"], "drop")


def test_salt_comes_only_from_the_environment():
    assert resolve_salt({"MLOPS_PII_SALT": "from-env"}) == "from-env"
    for environ in ({}, {"MLOPS_PII_SALT": ""}):
        with pytest.raises(ConfigError, match="set the environment variable MLOPS_PII_SALT"):
            resolve_salt(environ)


def test_leak_search_finds_values_in_text_and_parquet_but_not_masked(tmp_path, people):
    values = collect_pii_values(people, PII)
    assert values == {
        "full_name": {"Ada Berg", "Omar Costa"},
        "email": {"ada.berg1@example.com", "omar.costa2@example.org", "x.y3@example.net"},
    }
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text(json.dumps({"example": "Omar Costa"}))
    people.to_parquet(tmp_path / "out" / "table.parquet", compression="zstd")
    clean = tmp_path / "clean.parquet"
    protect_pii(people, ["full_name", "email"], "mask").to_parquet(clean)
    leaks = find_pii_leaks(values, [tmp_path / "out", clean])
    assert {(leak.path.name, leak.column, leak.value_kind) for leak in leaks} >= {
        ("report.json", None, "full_name"),
        ("table.parquet", "full_name", "full_name"),
        ("table.parquet", "email", "email"),
    }
    assert find_pii_leaks(values, [clean]) == []


def test_parquet_is_decoded_whatever_its_name_and_values_inside_cells_are_found(tmp_path, people):
    values = collect_pii_values(people, PII)
    table = tmp_path / "0a1b2c"  # a DVC cache object has no suffix
    notes = people.assign(notes=["call Ada Berg", "", ""])[["customer_id", "notes"]]
    notes.to_parquet(table, compression="zstd")
    leaks = PiiSearch(values).in_bytes(table.read_bytes(), "git:0a1b2c")
    assert ("git:0a1b2c", "notes", "full_name") in [
        (str(x.path), x.column, x.value_kind) for x in leaks
    ]
    assert PiiSearch(values).in_bytes(b"nothing here", "blob") == []
