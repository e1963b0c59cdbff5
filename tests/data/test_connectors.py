"""Connectors: the sample, CSV and Parquet from paths and URLs, plug-ins, one-line errors."""

from __future__ import annotations

import gzip
import sys
import textwrap

import pandas as pd
import pytest

from mlops_gitops.data import (
    BUILTIN_CONNECTORS,
    find_connector,
    list_connectors,
    read_dataset,
)
from mlops_gitops.errors import ConfigError, DataError


def test_sample_source_generates_the_configured_sample():
    frame = read_dataset({"source": "sample", "sample": {"rows": 50, "seed": 3}})
    assert len(frame) == 50
    assert frame["customer_id"].is_unique


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
def test_csv_is_read_from_a_path_or_file_url(tmp_path, small_sample, as_url):
    path = tmp_path / "applicants.csv"
    small_sample.to_csv(path, index=False)
    source = path.as_uri() if as_url else str(path)
    frame = read_dataset({"source": source})
    assert frame.shape == small_sample.shape
    assert frame["customer_id"].tolist() == small_sample["customer_id"].tolist()
    assert frame["income"].isna().sum() == small_sample["income"].isna().sum()


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
def test_parquet_is_read_from_a_path_or_file_url(tmp_path, small_sample, as_url):
    path = tmp_path / "applicants.parquet"
    small_sample.to_parquet(path, index=False)
    source = path.as_uri() if as_url else str(path)
    pd.testing.assert_frame_equal(read_dataset({"source": source}), small_sample)


def test_compressed_csv_and_explicit_format_are_understood(tmp_path, small_sample):
    path = tmp_path / "export.dat"
    path.write_bytes(gzip.compress(small_sample.to_csv(index=False).encode()))
    gz = tmp_path / "export.csv.gz"
    gz.write_bytes(path.read_bytes())
    assert len(read_dataset({"source": str(gz)})) == len(small_sample)
    with pytest.raises(DataError, match=r"export\.dat: not a valid CSV file"):
        read_dataset({"source": str(path), "format": "csv"})


def test_read_options_reach_the_csv_reader(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("customer_id;default\n1;0\n2;1\n")
    frame = read_dataset({"source": str(path), "read_options": {"sep": ";"}})
    assert frame["customer_id"].tolist() == ["1", "2"]


def test_missing_file_is_one_line_error_naming_it(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError) as info:
        read_dataset({"source": str(missing)})
    message = str(info.value)
    assert message.startswith(f"{missing}: file not found; set data.source")
    assert "\n" not in message


def test_csv_read_as_parquet_is_a_bad_format_error(tmp_path, small_sample):
    path = tmp_path / "looks.parquet"
    small_sample.head(5).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"looks.parquet: not a valid Parquet file \("):
        read_dataset({"source": str(path)})


def test_parquet_read_as_csv_is_a_bad_format_error(tmp_path, small_sample):
    path = tmp_path / "looks.csv"
    small_sample.to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"looks.csv: not a valid CSV file \("):
        read_dataset({"source": str(path)})


def test_empty_csv_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("customer_id,default\n")
    with pytest.raises(DataError, match=r"empty\.csv: the dataset has no rows"):
        read_dataset({"source": str(path)})


def test_unknown_suffix_asks_for_the_format(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot tell the format of .*; set data\.format"):
        read_dataset({"source": str(tmp_path / "dump.xlsx")})


def test_unknown_scheme_is_a_data_error():
    with pytest.raises(DataError, match=r"^nosuchscheme://bucket/x.csv: cannot open \("):
        read_dataset({"source": "nosuchscheme://bucket/x.csv"})


def test_unknown_connector_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown connector 'sql'; known: csv, parquet, sample"):
        read_dataset({"source": "db://x", "format": "sql"})


def test_invalid_data_section_names_the_field():
    with pytest.raises(ConfigError, match=r"^params.yaml data.sample.rows: input should be"):
        read_dataset({"sample": {"rows": 2}})


def test_plugin_connector_is_found_through_its_entry_point(tmp_path, monkeypatch):
    (tmp_path / "fixed_rows.py").write_text(
        textwrap.dedent(
            """
            import pandas as pd

            class FixedRows:
                def read(self, source, settings):
                    return pd.DataFrame({"customer_id": ["a", "b"], "default": [0, 1]})
            """
        )
    )
    dist = tmp_path / "fixed_rows-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fixed-rows\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[mlops_gitops.connectors]\nfixed = fixed_rows:FixedRows\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fixed_rows", raising=False)
    assert list_connectors()["fixed"] == "fixed_rows:FixedRows"
    frame = read_dataset({"source": "anything", "format": "fixed"})
    assert frame["customer_id"].tolist() == ["a", "b"]


def test_builtin_connectors_implement_the_protocol():
    for name in BUILTIN_CONNECTORS:
        assert hasattr(find_connector(name), "read")
