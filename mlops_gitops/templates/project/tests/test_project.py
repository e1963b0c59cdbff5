"""Checks of this project that run with `pytest` beside the pipeline."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_every_stage_has_its_script():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        script = stage["cmd"].split()[-1]
        assert (ROOT / script).is_file(), f"stage {name}: {script} is missing"


def test_params_file_is_valid_yaml():
    assert isinstance(yaml.safe_load((ROOT / "params.yaml").read_text()), dict)
