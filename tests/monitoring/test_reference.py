"""Resolving the reference of a registered version by content hash (real git, real DVC cache)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.reference import (
    ReferenceDataError,
    metrics_of_test_set,
    pick_reference_path,
    resolve_reference,
)
from mlops_gitops.registry.versions import label_of
from tests.helpers import gen_tree
from tests.helpers.monitoring import make_frame

DVC_YAML = """\
stages:
  prepare:
    cmd: python stages/prepare.py
    deps: [data/raw.csv]
    params: [data.label]
    outs: [data/prepared/train.parquet, data/prepared/test.parquet]
  export:
    cmd: python stages/export.py
    deps: [data/prepared/train.parquet]
    outs: [models/model.onnx]
    metrics: [metrics/evaluate.json]
artifacts:
  credit-default: {path: models/model.onnx, type: model}
"""


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _registered_project(root: Path) -> tuple[pd.DataFrame, str]:
    """Write a dvc.lock by hand, put the objects in the DVC cache, commit and register."""
    from mlops_gitops.registry import register

    train = make_frame(200, seed=5)
    train_path = root.parent / "train.parquet"
    train.to_parquet(train_path, index=False)
    blobs = {"train": train_path.read_bytes(), "test": b"test", "raw": b"raw", "model": b"onnx"}
    md5 = {k: _md5(v) for k, v in blobs.items()}
    lock = f"""\
schema: '2.0'
stages:
  prepare:
    cmd: python stages/prepare.py
    deps:
    - {{path: data/raw.csv, md5: {md5["raw"]}, size: 3}}
    params:
      params.yaml: {{data.label: default}}
    outs:
    - {{path: data/prepared/train.parquet, md5: {md5["train"]}, size: {len(blobs["train"])}}}
    - {{path: data/prepared/test.parquet, md5: {md5["test"]}, size: 4}}
  export:
    cmd: python stages/export.py
    deps:
    - {{path: data/prepared/train.parquet, md5: {md5["train"]}, size: {len(blobs["train"])}}}
    outs:
    - {{path: models/model.onnx, md5: {md5["model"]}, size: 4}}
"""
    metrics = {"accuracy": 0.91, "roc_auc": 0.95, "slices": {"sex": {"accuracy": 0.9}}}
    gen_tree(
        root,
        {
            "dvc.yaml": DVC_YAML,
            "dvc.lock": lock,
            "metrics/evaluate.json": json.dumps(metrics),
            "envs/environments.yaml": "environments:\n  prod: {}\n",
            "envs/prod.yaml": "models: {}\n",
        },
        commit="Train",
    )
    cache = root / ".dvc/cache/files/md5" / md5["train"][:2]
    cache.mkdir(parents=True)
    shutil.move(train_path, cache / md5["train"][2:])
    register(root, "credit-default", version="v1.0.0", check_remote=False)
    return train, md5["train"]


def test_reference_is_resolved_from_the_registration_by_hash(dvc_repo: Path) -> None:
    train, md5 = _registered_project(dvc_repo)
    reference = resolve_reference(dvc_repo, "credit-default", "v1.0.0", MonitoringConfig())
    pd.testing.assert_frame_equal(reference.frame, train)
    assert reference.label == "default"
    assert reference.test_metrics == {"accuracy": 0.91, "roc_auc": 0.95}
    assert reference.source == f"data/prepared/train.parquet (md5 {md5[:12]})"


def test_tampered_cache_object_is_refused(dvc_repo: Path) -> None:
    _, md5 = _registered_project(dvc_repo)
    (dvc_repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).write_bytes(b"tampered")
    with pytest.raises(
        ReferenceDataError, match=r"credit-default@v1.0.0: .* does not match its hash"
    ):
        resolve_reference(dvc_repo, "credit-default", "v1.0.0", MonitoringConfig())


def test_reference_name_must_be_a_registered_data_file() -> None:
    with pytest.raises(ReferenceDataError, match="no registered data file named 'train'"):
        pick_reference_path({"data/raw.csv": "x"}, "train", "m@v1.0.0")


def test_label_and_metrics_are_read_flat_or_nested() -> None:
    assert label_of({"params.yaml": {"data": {"label": "y"}}}) == "y"
    assert label_of({"params.yaml": {"model": {}}}) is None
    found = metrics_of_test_set(
        {
            "dvclive/metrics.json": {"accuracy": 0.7},
            "metrics/evaluate.json": {"test": {"accuracy": 0.8}},
        }
    )
    assert found == {"accuracy": 0.8}


def test_input_schema_of_a_registered_version_for_serving(dvc_repo: Path) -> None:
    from mlops_gitops.monitoring.reference import resolve_input_schema

    _registered_project(dvc_repo)
    config = MonitoringConfig()
    schema = resolve_input_schema(
        dvc_repo, "credit-default", "v1.0.0", features=["income", "region"], config=config
    )
    assert schema.names == ("income", "region")
    with pytest.raises(ReferenceDataError, match="inputs salary are not in the reference data"):
        resolve_input_schema(
            dvc_repo, "credit-default", "v1.0.0", features=["salary"], config=MonitoringConfig()
        )
