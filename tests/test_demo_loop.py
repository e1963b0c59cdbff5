"""`mlops demo`: the whole loop on the built-in sample, ending in a signed drift alert."""

from __future__ import annotations

import json

import pytest

from mlops_gitops import scm


@pytest.mark.slow
def test_demo_runs_the_loop_and_delivers_a_drift_alert(demo_run):
    result = demo_run
    assert 0.5 < result.metrics["roc_auc"] <= 1.0
    assert result.version == "v0.1.0"
    assert result.replayed == 2000
    assert len(result.alerts) == 1
    assert "data-drift" in result.alerts[0] and "signature valid" in result.alerts[0]
    dev = (result.path / "envs" / "dev.yaml").read_text()
    assert "credit-default" in dev and result.artifacts["models/model.onnx"] in dev
    history = (result.path / "monitoring" / "dev" / "history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["alerts"]
    assert not scm.is_dirty(result.path)
    assert "--pipeline-only" not in result.summary()


def test_demo_refuses_a_folder_that_is_not_empty(cli, tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "keep.txt").write_text("mine")
    result = cli("demo", str(tmp_path / "demo"))
    assert result.exit_code == 1
    assert "folder is not empty" in result.stderr
