"""stages/ingest.py then stages/validate.py as process bodies: exit 1 and one line on bad data."""

from __future__ import annotations

import json
import runpy
import shutil

import pytest

from mlops_gitops.project import template_root
from mlops_gitops.roundtrip import modify_yaml

SOURCE = "applicants.parquet"


@pytest.fixture
def project(tmp_path, monkeypatch, small_sample):
    """A folder with the scaffold's params.yaml reading ``SOURCE``, as the current folder."""
    shutil.copy(template_root() / "params.yaml", tmp_path / "params.yaml")
    with modify_yaml(tmp_path / "params.yaml") as params:
        params["data"]["source"] = SOURCE
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_script(name: str) -> int:
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(template_root() / "stages" / f"{name}.py"), run_name="__main__")
    return int(info.value.code)


def test_validate_script_exits_0_on_the_sample(project, small_sample, capfd):
    small_sample.to_parquet(project / SOURCE)
    assert run_script("ingest") == 0
    assert run_script("validate") == 0
    assert json.loads((project / "reports" / "validation.json").read_text())["passed"] is True
    assert "checks passed (400 rows)" in capfd.readouterr().err


def test_validate_script_exits_1_with_one_line_naming_column_and_check(
    project, small_sample, capfd
):
    corrupted = small_sample.astype({"income": str})
    corrupted.loc[11, "income"] = "ten thousand"
    corrupted.loc[12, "national_id"] = None
    corrupted.to_parquet(project / SOURCE)
    assert run_script("ingest") == 0
    assert run_script("validate") == 1
    errors = [line for line in capfd.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith("[validate] error: data/raw/dataset.parquet: 2 check(s) failed:")
    assert "national_id nullable: expected no missing values, 1 failing" in errors[0]
    assert "income dtype: expected float64" in errors[0]
    assert errors[0].endswith("see reports/validation.json")
    report = json.loads((project / "reports" / "validation.json").read_text())
    assert [f["examples"] for f in report["failures"]] == [["<redacted>"], ["ten thousand"]]
    assert not (project / "data" / "prepared").exists()
