"""What a pipeline may write back: the outputs, metrics and plots its dvc.yaml files declare."""

from __future__ import annotations

import pytest

from mlops_gitops.errors import PipelineError
from mlops_gitops.pipeline import declared_outputs, is_declared_output

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    outs: [models/model.onnx, {data/prepared: {cache: true}}]
    metrics:
      - metrics/evaluate.json: {cache: false}
    plots: [plots/roc.json]
  per-split:
    foreach: [train, test]
    do:
      cmd: python eval.py ${item}
      wdir: reports
      outs:
        - split-${item}.json
"""


def test_declared_outputs_cover_outs_metrics_plots_templates_and_the_lock() -> None:
    declared = declared_outputs({"dvc.yaml": DVC_YAML, "sub/dvc.yaml": "stages: {}\n"})

    assert declared == [
        "data/prepared",
        "dvc.lock",
        "metrics/evaluate.json",
        "models/model.onnx",
        "plots/roc.json",
        "reports/split-*.json",
        "sub/dvc.lock",
    ]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("dvc.lock", True),
        ("metrics/evaluate.json", True),
        ("models/.gitignore", True),
        ("data/prepared/test.parquet", True),
        ("reports/split-test.json", True),
        ("reports/other/split-test.json", False),
        ("envs/prod.yaml", False),
        ("metrics/evaluate.json.bak", False),
        ("dvc.yaml", False),
    ],
)
def test_only_declared_paths_and_their_gitignore_files_are_outputs(
    path: str, allowed: bool
) -> None:
    assert is_declared_output(path, declared_outputs({"dvc.yaml": DVC_YAML})) is allowed


def test_an_invalid_dvc_yaml_names_the_file() -> None:
    with pytest.raises(PipelineError, match=r"^sub/dvc.yaml: not valid YAML$"):
        declared_outputs({"sub/dvc.yaml": "stages: [\n"})
