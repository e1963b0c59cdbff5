"""The whole loop for each task a starter exists for, with the real commands a user types.

``mlops init --task T`` → ``dvc repro`` (the explain stage included) and
``dvc push`` → ``mlops registry
register`` → ``mlops registry promote --to dev`` and ``mlops gate`` on the
promotion branch → ``mlops serve`` of dev → the sample's drifted later
period sent over HTTP with its labels as feedback (``mlops monitor replay``)
→ ``mlops monitor run`` → ``mlops docs build``. Every step is a separate
process on a real Git repository with a local DVC remote.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import yaml

from mlops_gitops.project import list_starters
from mlops_gitops.tasks import ANALYSES, applicable_analyses, load_task
from tests.helpers.commands import run

pytestmark = pytest.mark.slow

ROWS = 800
MLOPS = [sys.executable, "-m", "mlops_gitops"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _project(tmp_path: Path, task: str) -> tuple[Path, str]:
    run([*MLOPS, "init", "p", "--remote", "r", "--task", task], tmp_path)
    root = tmp_path / "p"
    params = root / "params.yaml"
    params.write_text(params.read_text().replace("rows: 20000", f"rows: {ROWS}"))
    run(["dvc", "repro", "-q"], root)
    run(["dvc", "push", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "Train on the sample"], root)
    model = yaml.safe_load(params.read_text())["model"]["name"]
    return root, model


def _register_and_promote(root: Path, model: str) -> str:
    registered = json.loads(
        run([*MLOPS, "registry", "register", model, "--bump", "minor", "--json"], root)
    )
    version = registered["version"]
    promoted = json.loads(
        run([*MLOPS, "registry", "promote", model, version, "--to", "dev", "--json"], root)
    )
    run(["git", "checkout", "-q", promoted["branch"]], root)
    gate = json.loads(run([*MLOPS, "gate", "--env", "dev", "--json"], root))
    assert gate["decision"]["verdict"] in {"pass", "warn"}, gate["decision"]
    run(["git", "checkout", "-q", "main"], root)
    run(
        ["git", "merge", "--no-ff", "-q", "-m", f"Merge {promoted['branch']}", promoted["branch"]],
        root,
    )
    return version


def _serve_replay_and_stop(root: Path, model: str) -> dict:
    from mlops_gitops.serving.deploy import start_local

    server = start_local(root, "dev", ("127.0.0.1", _port()))
    try:
        info = json.loads(run(["curl", "-sf", f"{server.url}/v2/models/{model}"], root))
        replay = json.loads(
            run(
                [*MLOPS, "monitor", "replay", "--env", "dev", "--url", server.url,
                 "--rows", "300", "--batch", "50", "--drift", "1.0", "--json"],
                root,
            )
        )  # fmt: skip
    finally:
        os.kill(server.pid, signal.SIGTERM)
        os.waitpid(server.pid, 0)
    return {"info": info, "replay": replay}


@pytest.mark.parametrize("task", list_starters())
def test_the_whole_loop_runs_for_the_task(tmp_path, task):
    root, model = _project(tmp_path, task)
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    _check_explanations(root, task)
    version = _register_and_promote(root, model)
    dev = yaml.safe_load((root / "envs" / "dev.yaml").read_text())
    assert dev["models"][model]["version"] == version
    served = _serve_replay_and_stop(root, model)
    assert served["info"]["parameters"]["task"] == task
    replay = served["replay"]
    assert replay["failed"] == 0 and replay["requests"] == 6
    assert replay["labels"] == (0 if task == "clustering" else 300)
    report = json.loads(run([*MLOPS, "monitor", "run", "--env", "dev", "--json"], root))
    (watched,) = report["models"]
    assert (watched["result"]["version"], watched["result"]["rows"]) == (version, 300)
    assert watched["result"]["status"] == "ok"
    indicators = watched["indicators"]
    assert any(name.startswith("drift.") for name in indicators), indicators
    if task != "clustering":  # performance from the feedback labels of the replay
        assert any(name.startswith("performance.") for name in indicators), indicators
    site = tmp_path / "site"
    run([*MLOPS, "docs", "build", "--site-dir", str(site)], root)
    card = (site / "generated" / "models" / model / version / "index.html").read_text()
    assert f"<td>{task}</td>" in card
    assert metrics[HEADLINES[task]] is None or HEADLINES[task] in card


def _check_explanations(root: Path, task: str) -> None:
    """The explain stage ran for the task: importance, attributions, the report."""
    explained = json.loads((root / "metrics" / "explain.json").read_text())
    features = set(explained["importance"])
    assert features and set(explained["attribution"]) == {"shap", "lime"}
    assert set(explained["attribution"]["shap"]) == features
    assert set(explained["mutual_information"]) == features
    report = (root / "reports" / "explain" / "report.md").read_text()
    assert "## What drives the model" in report and "### Example 1" in report
    assert (root / "reports" / "explain" / "report.html").is_file()
    assert (root / "reports" / "explain" / "figures" / "importance.png").is_file()
    for analysis in set(ANALYSES) - set(applicable_analyses(load_task(task))):
        assert f"{analysis} does not apply to a" in report, analysis
    fairness = json.loads((root / "metrics" / "fairness.json").read_text())["fairness"]
    assert fairness.get("applies", True) == ("fairness" in applicable_analyses(load_task(task)))


# The headline metric of each task's metrics file, shown on the card.
HEADLINES = {
    "binary": "roc_auc",
    "multiclass": "f1_macro",
    "regression": "rmse",
    "clustering": "silhouette",
    "anomaly": "roc_auc",
}
