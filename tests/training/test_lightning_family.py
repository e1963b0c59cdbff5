"""The lightning family: train a tiny network, save, load and export one merged ONNX graph."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pandas as pd
import pytest
from credit_frames import ID_COLUMN, LABEL, PII, model_settings

from mlops_gitops.errors import ConfigError
from mlops_gitops.training import export_model, load_trained_model, train_model


def _train(split, folder, **lightning):
    settings = model_settings("lightning")
    settings["lightning"] = {**settings["lightning"], **lightning}
    return train_model(
        train=split.train,
        valid=split.valid,
        trained=folder / "trained",
        settings=settings,
        label=LABEL,
        id_column=ID_COLUMN,
        pii=PII,
        live_dir=folder / "dvclive",
    )


@pytest.fixture(scope="module")
def trained(split, tmp_path_factory):
    """A lightning model trained for two epochs, with its dvclive folder."""
    folder = tmp_path_factory.mktemp("lightning")
    _train(split, folder)
    return folder


@pytest.mark.slow
def test_lightning_model_exports_to_one_onnx_graph_that_matches_it(split, trained, tmp_path):
    check = export_model(
        trained=trained / "trained",
        test=split.test,
        model=tmp_path / "model.onnx",
        metrics=tmp_path / "export.json",
        settings={"opset": 18, "tolerance": 1e-4},
    )
    assert check.max_abs_diff <= 1e-4 and check.label_agreement == 1.0
    proto = onnx.load(tmp_path / "model.onnx")
    meta = load_trained_model(trained / "trained").meta
    inputs = {i.name: i.type.tensor_type.elem_type for i in proto.graph.input}
    assert list(inputs) == meta.feature_names()
    assert inputs["income"] == onnx.TensorProto.FLOAT
    assert inputs["housing"] == onnx.TensorProto.STRING
    outputs = {o.name: o.type.tensor_type.elem_type for o in proto.graph.output}
    assert outputs == {"label": onnx.TensorProto.INT64, "probabilities": onnx.TensorProto.FLOAT}
    assert {p.key: p.value for p in proto.metadata_props}["family"] == "lightning"
    domains = [o.domain for o in proto.opset_import]
    assert sorted(domains) == sorted(set(domains))
    assert {o.domain: o.version for o in proto.opset_import}[""] == 18


@pytest.mark.slow
def test_lightning_writes_weights_preprocessing_and_curves(trained):
    files = sorted(p.name for p in (trained / "trained").iterdir())
    assert files == ["meta.json", "network.json", "network.pt", "preprocess.joblib"]
    architecture = json.loads((trained / "trained" / "network.json").read_text())
    assert architecture["hidden"] == [16]
    metrics = json.loads((trained / "dvclive" / "metrics.json").read_text())
    assert metrics["epoch"] == 1 and "log_loss" in metrics["valid"]
    assert (trained / "dvclive" / "plots" / "metrics" / "train" / "log_loss.tsv").exists()
    assert not list(trained.rglob("dvc.yaml"))


@pytest.mark.slow
def test_lightning_training_is_deterministic_for_a_seed(split, trained, tmp_path):
    _train(split, tmp_path)
    test = pd.read_parquet(split.test)
    first = load_trained_model(trained / "trained").predict_proba(test)
    second = load_trained_model(tmp_path / "trained").predict_proba(test)
    np.testing.assert_array_equal(first, second)


@pytest.mark.slow
def test_unavailable_accelerator_is_a_config_error(split, tmp_path):
    with pytest.raises(ConfigError, match=r"^params.yaml model.lightning: "):
        _train(split, tmp_path, accelerator="tpu")
    assert not (tmp_path / "trained").exists()


def test_lightning_params_error_names_the_field(split, tmp_path):
    with pytest.raises(ConfigError, match=r"params.yaml model.lightning.dropout: input should be"):
        _train(split, tmp_path, dropout=1.5)


DDP_SCRIPT = """
import sys
from mlops_gitops.training import train_model

train, valid, out = sys.argv[1:4]
settings = {
    "name": "credit-default",
    "family": "lightning",
    "features": {"exclude": ["sex"]},
    "lightning": {"hidden": [8], "max_epochs": 1, "batch_size": 64,
                  "accelerator": "cpu", "devices": 2, "strategy": "ddp"},
}
meta = train_model(train=train, valid=valid, trained=out + "/trained", settings=settings,
                   label="default", id_column="customer_id", live_dir=out + "/dvclive")
print("saved" if meta is not None else "not saved")
"""


@pytest.mark.slow
def test_distributed_strategy_runs_through_lightning_and_only_rank_zero_saves(split, tmp_path):
    # Two CPU processes with the gloo backend: the same code path as several GPUs or nodes.
    script = tmp_path / "train_ddp.py"
    script.write_text(DDP_SCRIPT)
    args = [sys.executable, str(script), str(split.train), str(split.valid), str(tmp_path)]
    out = subprocess.run(
        args, capture_output=True, text=True, check=False, cwd=tmp_path, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert sorted(out.stdout.split("\n")) == ["", "not saved", "saved"]
    loaded = load_trained_model(tmp_path / "trained")
    assert loaded.predict_proba(pd.read_parquet(split.test)).shape[1] == 2
