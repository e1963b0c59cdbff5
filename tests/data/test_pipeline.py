"""The first pipeline stages under real `dvc repro`: ingest -> validate -> prepare.

Slow: each test scaffolds a project with ``init_project`` and runs DVC.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mlops_gitops import pipeline
from mlops_gitops.data.sample import generate_sample
from mlops_gitops.project import init_project
from mlops_gitops.quality import collect_pii_values, find_pii_leaks
from mlops_gitops.roundtrip import modify_yaml

pytestmark = pytest.mark.slow

PII = ["full_name", "email", "phone", "national_id"]
RAW = "data/raw/dataset.parquet"
PII_REPORT = "reports/pii_validation.json"
PREPARED = (
    "data/prepared/train.parquet",
    "data/prepared/valid.parquet",
    "data/prepared/test.parquet",
)


def scaffold(tmp_path: Path, *, rows: int = 600, source: str | None = None) -> Path:
    root = init_project(tmp_path / "credit", remote=tmp_path / "remote").path
    with modify_yaml(root / "params.yaml") as params:
        params["data"]["sample"]["rows"] = rows
        if source is not None:
            params["data"]["source"] = source
    return root


def workspace_and_cache(root: Path) -> list[Path]:
    """Every file of the workspace and of DVC's cache (raw data included), but git's own."""
    return [p for p in root.rglob("*") if p.is_file() and root / ".git" not in p.parents]


def repro_fails_at_validate(root: Path) -> tuple[str, str]:
    """Run `dvc repro`, which must fail at validate; return validate's one error line and stderr."""
    proc = subprocess.run(
        [*pipeline.dvc_executable(), "repro"], cwd=root, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    reason = [ln for ln in proc.stderr.splitlines() if ln.startswith("[validate] error:")]
    assert len(reason) == 1, proc.stderr
    return reason[0], proc.stderr


def test_repro_prepare_writes_a_versioned_split_without_pii(tmp_path, venv_on_path):
    root = scaffold(tmp_path)
    pipeline.repro(root, targets=["prepare"], stream=False)
    lock = pipeline.read_lock(root)
    assert {RAW, PII_REPORT, "reports/validation.json", *PREPARED} <= set(lock)
    assert lock["data/prepared/test.parquet"].stage == "prepare"
    assert len(lock["data/prepared/test.parquet"].md5) == 32
    parts = [pd.read_parquet(root / p) for p in PREPARED]
    assert [len(p) for p in parts] == [420, 90, 90]
    assert not set(PII) & set(parts[0].columns)
    assert not set(PII) & set(pd.read_parquet(root / RAW).columns)
    report = json.loads((root / "reports" / "validation.json").read_text())
    assert report["passed"] and {"email", "income"} <= {c["column"] for c in report["checks"]}
    values = collect_pii_values(generate_sample(600, 42), PII)
    assert find_pii_leaks(values, workspace_and_cache(root)) == []


def test_bad_pii_value_stops_the_pipeline_at_validate_and_is_never_written(
    tmp_path, venv_on_path, small_sample
):
    root = scaffold(tmp_path, source="applicants.csv")
    source = small_sample.assign(email=small_sample["email"].str.replace("@", " at "))
    source.to_csv(root / "applicants.csv", index=False)
    reason, _ = repro_fails_at_validate(root)
    assert "email pattern: expected matches" in reason and "400 failing" in reason
    (root / "applicants.csv").unlink()  # the source itself is the user's, outside the pipeline
    values = collect_pii_values(source, PII)
    assert find_pii_leaks(values, workspace_and_cache(root)) == []


def test_corrupted_column_stops_the_pipeline_at_validate(tmp_path, venv_on_path, small_sample):
    root = scaffold(tmp_path, source="applicants.csv")
    corrupted = small_sample.astype({"income": str})
    corrupted.loc[[4, 8], "income"] = "see attached"
    corrupted.to_csv(root / "applicants.csv", index=False)
    reason, stderr = repro_fails_at_validate(root)
    assert "income dtype: expected float64, 2 failing, e.g. 'see attached'" in reason
    assert "failed to reproduce 'validate'" in stderr
    for never_written in ("data/prepared", "models", "metrics"):
        assert not (root / never_written).exists(), never_written
    report = json.loads((root / "reports" / "validation.json").read_text())
    assert (report["passed"], report["failures"][0]["column"]) == (False, "income")


def test_whole_pipeline_outputs_hold_no_raw_pii(reference_project):
    root = reference_project / "project"
    values = collect_pii_values(generate_sample(600, 42), PII)
    assert sum(len(v) for v in values.values()) > 0
    files = workspace_and_cache(root)
    assert any(p.suffix == ".onnx" for p in files), "the whole pipeline ran"
    assert find_pii_leaks(values, [*files, reference_project / "dvc-remote"]) == []
