"""The whole loop for each task a starter exists for, on the task's built-in sample.

``mlops init --task T`` → ``dvc repro`` (the explain stage included) and
``dvc push`` → register → promote to dev through the gate → ``mlops serve``
→ the sample's drifted later period sent over HTTP with its labels as
feedback → ``mlops monitor run`` → ``mlops docs build``
(:mod:`tests.helpers.whole_loop`). Every step is a separate process on a
real Git repository with a local DVC remote.
"""

from __future__ import annotations

import pytest

from mlops_gitops.project import list_starters
from tests.helpers.commands import run
from tests.helpers.whole_loop import (
    MLOPS,
    check_explanations,
    monitor_and_document,
    register_and_promote,
    serve_and_replay,
    train_and_commit,
)

pytestmark = pytest.mark.slow

ROWS = 800


@pytest.mark.parametrize("task", list_starters())
def test_the_whole_loop_runs_for_the_task(tmp_path, task):
    run([*MLOPS, "init", "p", "--remote", "r", "--task", task], tmp_path)
    root = tmp_path / "p"
    params = root / "params.yaml"
    params.write_text(params.read_text().replace("rows: 20000", f"rows: {ROWS}"))
    model = train_and_commit(root)
    check_explanations(root, task)
    version = register_and_promote(root, model)
    served = serve_and_replay(root, model, "--rows", "300", "--drift", "1.0")
    assert served["info"]["parameters"]["task"] == task
    replay = served["replay"]
    assert replay["failed"] == 0 and replay["requests"] == 6
    assert (replay["source"], replay["drift"]) == ("sample", 1.0)
    assert replay["labels"] == (0 if task == "clustering" else 300)
    monitor_and_document(root, tmp_path / "site", task, model, version, 300)
