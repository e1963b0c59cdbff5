"""The shared stage entry point: exit codes, one-line errors, params."""

from __future__ import annotations

import logging

import pytest

from mlops_gitops import stage
from mlops_gitops.errors import ConfigError, DataError, GateBlocked


def test_run_stage_returns_zero_on_success():
    calls = []
    assert stage.run_stage(lambda: calls.append(1), name="ok") == 0
    assert calls == [1]


def test_run_stage_turns_mlops_error_into_one_line_and_exit_1(capfd):
    def main() -> None:
        raise DataError("data/raw/x.csv: not found")

    assert stage.run_stage(main) == 1
    err = capfd.readouterr().err
    assert err.strip() == "[test_stage] error: data/raw/x.csv: not found"


def test_run_stage_keeps_gate_exit_code():
    def main() -> None:
        raise GateBlocked("blocked")

    assert stage.run_stage(main, name="gate") == 3


def test_run_stage_reports_bug_as_internal_error(capfd):
    def main() -> None:
        raise ZeroDivisionError("division by zero")

    assert stage.run_stage(main, name="bug") == 4
    assert "internal error: ZeroDivisionError" in capfd.readouterr().err


def test_run_stage_reraises_with_traceback_env(monkeypatch):
    monkeypatch.setenv("MLOPS_TRACEBACK", "1")

    def main() -> None:
        raise DataError("boom")

    with pytest.raises(DataError):
        stage.run_stage(main, name="x")


def test_load_sections_returns_named_sections(tmp_path):
    (tmp_path / "params.yaml").write_text("data:\n  rows: 3\nmodel:\n  lr: 0.1\n")
    sections = stage.load_sections("data", "model", root=tmp_path)
    assert sections == {"data": {"rows": 3}, "model": {"lr": 0.1}}


def test_load_sections_names_missing_section(tmp_path):
    (tmp_path / "params.yaml").write_text("data:\n  rows: 3\n")
    with pytest.raises(ConfigError, match=r"no section 'prepare' \(sections: data\)"):
        stage.load_sections("prepare", root=tmp_path)


def test_load_sections_refuses_scalar_section(tmp_path):
    (tmp_path / "params.yaml").write_text("data: 3\n")
    with pytest.raises(ConfigError, match="data: expected a mapping, got int"):
        stage.load_sections("data", root=tmp_path)


def test_run_stage_restores_logging_configuration():
    logger = logging.getLogger("mlops_gitops")
    before = (list(logger.handlers), logger.level, logger.propagate)
    stage.run_stage(lambda: None, name="x")
    assert (list(logger.handlers), logger.level, logger.propagate) == before
