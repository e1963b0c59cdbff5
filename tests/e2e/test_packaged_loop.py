"""The whole loop for each task on a data set that ships with scikit-learn, not the sample.

``mlops init --task T``, then params.yaml points ``data.source`` at a CSV
of the task's data set (:mod:`tests.helpers.packaged_data`: breast cancer,
wine with class names, diabetes, iris without its species, breast cancer
with a few malignant rows as anomalies) and declares its columns; 70 % of
the rows train, the other 30 % are the later traffic. Then the same loop
as the sample's (:mod:`tests.helpers.whole_loop`): ``dvc repro`` → register
→ promote to dev through the gate → ``mlops serve`` → the later rows over
HTTP with their labels as feedback (``mlops monitor replay --data``) →
``mlops monitor run`` → ``mlops docs build``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers.commands import run
from tests.helpers.packaged_data import DATASETS, LABELS, packaged_frame, schema_columns
from tests.helpers.whole_loop import (
    MLOPS,
    check_explanations,
    monitor_and_document,
    register_and_promote,
    serve_and_replay,
    train_and_commit,
)

pytestmark = pytest.mark.slow

SOURCE = "inputs/dataset.csv"


def _packaged_project(tmp_path: Path, task: str) -> tuple[Path, Path, int]:
    """Return the project on the task's data set, the later rows' file and their count."""
    run([*MLOPS, "init", "p", "--remote", "r", "--task", task], tmp_path)
    root = tmp_path / "p"
    frame = packaged_frame(task)
    later = frame.sample(frac=0.3, random_state=0)
    (root / "inputs").mkdir()
    frame.drop(index=later.index).to_csv(root / SOURCE, index=False)
    later.to_csv(tmp_path / "later.csv", index=False)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["data"].update(source=SOURCE, label=LABELS[task], id_column="row_id")
    params["schema"].update(pii=[], sensitive=[], columns=schema_columns(frame, task))
    params["prepare"]["split"] = {"by": "random", "seed": 7}
    params["model"]["features"]["exclude"] = []
    params["evaluate"]["slices"] = ["band"]
    params["explain"].update(immutable=[], template="generic")
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root, tmp_path / "later.csv", len(later)


@pytest.mark.parametrize("task", list(DATASETS))
def test_the_whole_loop_runs_on_a_packaged_data_set(tmp_path, task):
    root, later, rows = _packaged_project(tmp_path, task)
    model = train_and_commit(root)
    check_explanations(root, task)
    version = register_and_promote(root, model)
    served = serve_and_replay(root, model, "--data", str(later), "--rows", str(rows))
    assert served["info"]["parameters"]["task"] == task
    replay = served["replay"]
    assert (replay["source"], replay["rows"], replay["failed"]) == (str(later), rows, 0)
    assert replay["labels"] == (0 if task == "clustering" else rows)
    monitor_and_document(root, tmp_path / "site", task, model, version, rows)
