"""The whole loop after training, with the real commands a user types, for any task.

``mlops registry register`` → ``mlops registry promote --to dev`` and
``mlops gate`` on the promotion branch, merged → ``mlops serve`` of dev →
traffic over HTTP with its labels as feedback (``mlops monitor replay``) →
``mlops monitor run`` → ``mlops docs build``. Every step is a separate
process on the project's real Git repository.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import yaml

from mlops_gitops.tasks import ANALYSES, applicable_analyses, load_task
from tests.helpers.commands import run

MLOPS = [sys.executable, "-m", "mlops_gitops"]
# The headline metric of each task's metrics file, shown on the card.
HEADLINES = {
    "binary": "roc_auc",
    "multiclass": "f1_macro",
    "regression": "rmse",
    "clustering": "silhouette",
    "anomaly": "roc_auc",
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def train_and_commit(root: Path) -> str:
    """Run ``dvc repro`` and ``dvc push``, commit, and return the model's name."""
    run(["dvc", "repro", "-q"], root)
    run(["dvc", "push", "-q"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "Train"], root)
    return str(yaml.safe_load((root / "params.yaml").read_text())["model"]["name"])


def register_and_promote(root: Path, model: str) -> str:
    """Register a minor version, promote it to dev through the gate, merge; return the version."""
    registered = json.loads(
        run([*MLOPS, "registry", "register", model, "--bump", "minor", "--json"], root)
    )
    version = str(registered["version"])
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
    dev = yaml.safe_load((root / "envs" / "dev.yaml").read_text())
    assert dev["models"][model]["version"] == version
    return version


def serve_and_replay(root: Path, model: str, *replay: str) -> dict[str, Any]:
    """Serve dev, read the model's metadata and replay traffic (``replay``: extra options)."""
    from mlops_gitops.serving.deploy import start_local

    server = start_local(root, "dev", ("127.0.0.1", _port()))
    try:
        info = json.loads(run(["curl", "-sf", f"{server.url}/v2/models/{model}"], root))
        replayed = json.loads(
            run(
                [*MLOPS, "monitor", "replay", "--env", "dev", "--url", server.url,
                 "--batch", "50", "--json", *replay],
                root,
            )
        )  # fmt: skip
    finally:
        os.kill(server.pid, signal.SIGTERM)
        os.waitpid(server.pid, 0)
    return {"info": info, "replay": replayed}


def monitor_and_document(
    root: Path, site: Path, task: str, model: str, version: str, rows: int
) -> None:
    """Run ``mlops monitor run`` on the ``rows`` replayed, then build the site with the card."""
    metrics = json.loads((root / "metrics" / "evaluate.json").read_text())
    report = json.loads(run([*MLOPS, "monitor", "run", "--env", "dev", "--json"], root))
    (watched,) = report["models"]
    assert (watched["result"]["version"], watched["result"]["rows"]) == (version, rows)
    assert watched["result"]["status"] == "ok"
    indicators = watched["indicators"]
    assert any(name.startswith("drift.") for name in indicators), indicators
    if task != "clustering":  # performance from the feedback labels of the replay
        assert any(name.startswith("performance.") for name in indicators), indicators
    run([*MLOPS, "docs", "build", "--site-dir", str(site)], root)
    card = (site / "generated" / "models" / model / version / "index.html").read_text()
    assert f"<td>{task}</td>" in card
    assert metrics[HEADLINES[task]] is None or HEADLINES[task] in card


def check_explanations(root: Path, task: str) -> None:
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
