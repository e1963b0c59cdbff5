"""Stage outputs: stale copies cleared, JSON written atomically and stably."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlops_gitops.errors import MlopsError
from mlops_gitops.outputs import prepare_outputs, write_json


def test_prepare_outputs_makes_parents_and_removes_stale(tmp_path):
    stale = tmp_path / "models" / "trained"
    stale.mkdir(parents=True)
    (stale / "old.bin").write_text("x")
    old_file = tmp_path / "metrics" / "m.json"
    old_file.parent.mkdir()
    old_file.write_text("{}")
    new = tmp_path / "plots" / "deep" / "roc.json"
    paths = prepare_outputs(stale, old_file, new)
    assert paths == [stale, old_file, new]
    assert not stale.exists() and not old_file.exists()
    assert new.parent.is_dir()


def test_write_json_is_atomic_and_stable(tmp_path: Path):
    target = tmp_path / "metrics" / "evaluate.json"
    values = {"auc": np.float64(0.75), "n": np.int64(3), "bad": math.nan, "per": [1.5, math.inf]}
    assert write_json(target, values) == target
    text = target.read_text()
    assert text.endswith("}\n")
    assert json.loads(text) == {"auc": 0.75, "n": 3, "bad": None, "per": [1.5, None]}
    assert [p.name for p in target.parent.iterdir()] == ["evaluate.json"]


def test_write_json_refuses_unserialisable_value(tmp_path):
    with pytest.raises(MlopsError, match="cannot write as JSON"):
        write_json(tmp_path / "x.json", {"a": object()})
    assert not (tmp_path / "x.json").exists()
