"""The explain stage in the reference pipeline: it runs in ``dvc repro`` and DVC caches it."""

from __future__ import annotations

import json
import re

import pytest

from mlops_gitops import pipeline
from mlops_gitops.roundtrip import modify_yaml

pytestmark = pytest.mark.slow


def _ran(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def test_explain_stage_runs_in_the_reference_pipeline(project):
    metrics = json.loads((project / "metrics" / "explain.json").read_text())
    fairness = json.loads((project / "metrics" / "fairness.json").read_text())["fairness"]
    meta = json.loads((project / "models" / "trained" / "meta.json").read_text())
    assert set(metrics["importance"]) == {f["name"] for f in meta["features"]}
    assert set(fairness["by_attribute"]) == {"sex", "age_band"}
    assert (project / "reports" / "explain" / "report.md").is_file()
    assert (project / "reports" / "explain" / "report.html").is_file()
    locked = pipeline.read_lock(project)
    assert locked["metrics/fairness.json"].stage == "explain"
    assert locked["reports/explain/report.md"].stage == "explain"


def test_dvc_repro_skips_explain_until_its_params_change_and_restores_it_from_cache(project):
    assert "explain" not in _ran(pipeline.dvc("repro", cwd=project))
    report = (project / "reports" / "explain" / "report.md").read_text()
    with modify_yaml(project / "params.yaml") as params:
        params["explain"]["top"] = 3
    assert _ran(pipeline.dvc("repro", cwd=project)) == ["explain"]
    with modify_yaml(project / "params.yaml") as params:
        params["explain"]["top"] = 5
    output = pipeline.dvc("repro", cwd=project)
    # DVC's run cache restores the report (cached) and the figures and metrics (in Git)
    assert _ran(output) == [] and "Stage 'explain' is cached - skipping run" in output
    assert (project / "reports" / "explain" / "report.md").read_text() == report
    assert (project / "reports" / "explain" / "figures" / "shap_summary.png").is_file()
