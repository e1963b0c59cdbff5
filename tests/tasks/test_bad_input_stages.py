"""Bad data or params stop the stage a user runs: one line, a non-zero exit, nothing half-written.

Each case writes a small CSV as ``data.source`` of a scaffolded project,
edits its ``params.yaml`` as a user would, and runs the pipeline's stage
scripts in ``dvc.yaml`` order (what ``dvc repro`` runs) until one stops. The
stage that stops must say, on the last line of its stderr, which file or
params key is wrong and how, without a traceback, and leave none of its
outputs behind (the validate stage leaves its report, the file its error
line points to). A task that disagrees with a registered version being
promoted over it is refused by ``mlops registry promote``
(``tests/registry/test_task_change.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ruamel.yaml import YAML

from mlops_gitops.project import init_project

ROWS = 200
STAGES = ("ingest", "validate", "prepare", "train")


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scaffolded project (git and DVC initialised), copied by each case."""
    root = tmp_path_factory.mktemp("bad-input")
    return init_project(root / "project", remote=root / "dvc-remote").path


def _frame(label: object, **extra: object) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"id": [f"r{i}" for i in range(ROWS)], "x1": rng.normal(size=ROWS), "x2": rng.random(ROWS)}
    )
    for name, values in extra.items():
        frame[name] = values
    frame["y"] = label
    return frame


def _binary() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 2, ROWS)


CASES = {
    "three values under binary": (
        _frame(np.random.default_rng(1).integers(0, 3, ROWS)),
        {},
        ("train", "data/prepared/train.parquet: label 'y' must hold 0 and 1 only"),
    ),
    "strings under regression": (
        _frame(np.random.default_rng(1).choice(["low", "high"], ROWS)),
        {"model.task": "regression", "schema.columns.y": {"type": "float"}},
        ("validate", "data/raw/dataset.parquet: 1 check(s) failed: y dtype: expected float64"),
    ),
    "NaN labels": (
        _frame(np.where(np.arange(ROWS) % 10 == 0, np.nan, _binary())),
        {},
        ("validate", "data/raw/dataset.parquet: 1 check(s) failed: y dtype"),
    ),
    "a single class": (
        _frame(1),
        {},
        ("train", "data/prepared/train.parquet: label 'y' has one class only"),
    ),
    "an unsupported family and task": (
        _frame(_binary()),
        {"model.family": "lightning", "model.task": "clustering"},
        (
            "ingest",
            "params.yaml model.task: the lightning family fits binary, multiclass, regression, "
            "not clustering",
        ),
    ),
    "a column name skl2onnx would rename": (
        _frame(_binary(), **{"od280/od315": np.arange(ROWS, dtype=float)}),
        {},
        ("train", "data/prepared/train.parquet: column 'od280/od315' cannot be a model input"),
    ),
}


def _project(scaffold: Path, dest: Path, frame: pd.DataFrame, edits: dict[str, object]) -> Path:
    shutil.copytree(scaffold, dest, symlinks=True)
    frame.to_csv(dest / "data.csv", index=False)
    settings: dict[str, object] = {
        "data.source": "data.csv",
        "data.label": "y",
        "data.id_column": "id",
        "schema.pii": [],
        "schema.sensitive": [],
        "schema.columns": {"id": {"type": "string", "unique": True}},
        "model.features.exclude": [],
        "model.sklearn.max_iter": 5,
        "evaluate.slices": [],
        **edits,
    }
    round_trip = YAML()
    params = round_trip.load(dest / "params.yaml")
    for key, value in settings.items():
        *parents, leaf = key.split(".")
        section = params
        for parent in parents:
            section = section[parent]
        section[leaf] = value
    round_trip.dump(params, dest / "params.yaml")
    return dest


def _outs(project: Path, stage: str) -> list[str]:
    declared = yaml.safe_load((project / "dvc.yaml").read_text())["stages"][stage]
    items = [*declared.get("outs", []), *declared.get("metrics", []), *declared.get("plots", [])]
    return [item if isinstance(item, str) else next(iter(item)) for item in items]


def _run_until_one_stops(project: Path) -> tuple[str, subprocess.CompletedProcess[str]]:
    for stage in STAGES:
        proc = subprocess.run(
            [sys.executable, f"stages/{stage}.py"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return stage, proc
    pytest.fail("every stage passed; the bad input went through")


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_its_stage_in_one_line_with_nothing_half_written(
    scaffold: Path, tmp_path: Path, case: str
) -> None:
    frame, edits, (stage, message) = CASES[case]
    project = _project(scaffold, tmp_path / "project", frame, edits)

    stopped, proc = _run_until_one_stops(project)

    assert (stopped, proc.returncode) == (stage, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"[{stage}] error: {message}"), last
    for out in _outs(project, stage):
        if out in last:  # the report the error line points to: written whole
            assert json.loads((project / out).read_text())["passed"] is False
        else:
            assert not (project / out).exists(), out
