"""Audit exports round-trip: CSV and JSON read back into the events the CLI reports."""

from __future__ import annotations

import json

import pytest

from mlops_gitops.audit import AuditError, list_events, read_export, write_exports
from tests.site.history import History


def test_csv_and_json_exports_read_back_into_the_same_events(built_history: History, tmp_path):
    events = list_events(built_history.path)
    csv_path, json_path = write_exports(events, tmp_path)
    assert read_export(csv_path) == events
    assert read_export(json_path) == events


def test_exports_equal_what_the_cli_reports(built_history: History, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(built_history.path)
    result = cli("audit", "--json", "--csv", str(tmp_path / "audit.csv"))
    assert result.exit_code == 0, result.stderr
    (tmp_path / "audit.json").write_text(result.stdout)
    assert read_export(tmp_path / "audit.json") == read_export(tmp_path / "audit.csv")
    assert read_export(tmp_path / "audit.csv") == list_events(built_history.path)


def test_reading_a_file_that_is_not_an_export_names_the_problem(tmp_path):
    (tmp_path / "audit.json").write_text(json.dumps({"events": []}))
    with pytest.raises(
        AuditError, match="not an audit export; expected schema 'mlops-gitops/audit/1'"
    ):
        read_export(tmp_path / "audit.json")
    (tmp_path / "audit.csv").write_text("seq,kind\n1,register\n")
    with pytest.raises(AuditError, match=r"audit.csv:1: header must be seq,kind,date"):
        read_export(tmp_path / "audit.csv")
