"""The sklearn family: train, save, load and export with ONNX equivalence."""

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
from mlops_gitops.training import export_model, load_trained_model, read_meta, train_model


def _train(split, folder, **overrides):
    return train_model(
        train=split.train,
        valid=split.valid,
        trained=folder / "trained",
        settings=model_settings("sklearn", **overrides),
        label=LABEL,
        id_column=ID_COLUMN,
        pii=PII,
        live_dir=folder / "dvclive",
    )


@pytest.mark.slow
def test_sklearn_model_exports_to_onnx_that_matches_it(split, tmp_path):
    meta = _train(split, tmp_path)
    check = export_model(
        trained=tmp_path / "trained",
        test=split.test,
        model=tmp_path / "model.onnx",
        metrics=tmp_path / "metrics" / "export.json",
        settings={"opset": 18, "tolerance": 1e-4},
    )
    assert check.max_abs_diff <= 1e-4 and check.label_agreement == 1.0
    assert json.loads((tmp_path / "metrics" / "export.json").read_text()) == {
        "onnx_max_abs_diff": check.max_abs_diff,
        "onnx_label_agreement": 1.0,
        "rows": len(pd.read_parquet(split.test)),
    }
    proto = onnx.load(tmp_path / "model.onnx")
    assert [i.name for i in proto.graph.input] == meta.feature_names()
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    assert {o.domain or "ai.onnx": o.version for o in proto.opset_import}["ai.onnx"] == 18
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["family"] == "sklearn" and props["model_name"] == "credit-default"
    assert [f["name"] for f in json.loads(props["features"])] == meta.feature_names()
    assert props["train_data_md5"] == meta.train_data_md5 and props["missing_category"] == ""


@pytest.mark.slow
def test_id_label_pii_and_excluded_columns_never_become_features(split, tmp_path):
    meta = _train(split, tmp_path)
    names = meta.feature_names()
    assert not {ID_COLUMN, LABEL, "sex", *PII} & set(names)
    assert "age_band" in names
    kinds = {f.name: f.kind for f in read_meta(tmp_path / "trained").features}
    assert kinds["income"] == "numeric" and kinds["housing"] == "categorical"


@pytest.mark.slow
def test_training_curves_go_to_dvclive_without_a_dvc_yaml(split, tmp_path):
    _train(split, tmp_path)
    live = tmp_path / "dvclive"
    metrics = json.loads((live / "metrics.json").read_text())
    assert metrics["iterations"] >= 1 and 0 < metrics["valid"]["roc_auc"] <= 1
    curve = (live / "plots" / "metrics" / "valid" / "log_loss.tsv").read_text().splitlines()
    assert curve[0].split("\t") == ["step", "log_loss"] and len(curve) > 2
    assert not list(tmp_path.rglob("dvc.yaml"))


@pytest.mark.slow
def test_same_seed_gives_the_same_model(split, tmp_path):
    _train(split, tmp_path / "a")
    _train(split, tmp_path / "b")
    test = pd.read_parquet(split.test)
    first = load_trained_model(tmp_path / "a" / "trained").predict_proba(test)
    second = load_trained_model(tmp_path / "b" / "trained").predict_proba(test)
    np.testing.assert_array_equal(first, second)


def test_sklearn_params_error_names_the_field(split, tmp_path):
    with pytest.raises(ConfigError, match=r"params.yaml model.sklearn.max_iter: input should be"):
        _train(split, tmp_path, sklearn={"max_iter": 0})
    assert not (tmp_path / "trained").exists()


@pytest.mark.slow
def test_sklearn_path_never_imports_torch_or_lightning(split, tmp_path):
    settings = model_settings("sklearn")
    model, live, onnx_path, metrics = (str(tmp_path / n) for n in ("m", "l", "m.onnx", "e.json"))
    code = (
        "import sys\n"
        "from mlops_gitops.training import train_model, export_model\n"
        f"train_model(train={str(split.train)!r}, valid={str(split.valid)!r}, trained={model!r},"
        f" settings={settings!r}, label='default', live_dir={live!r})\n"
        f"export_model(trained={model!r}, test={str(split.test)!r}, model={onnx_path!r},"
        f" metrics={metrics!r}, settings={{}})\n"
        "print(','.join(m for m in ('torch', 'lightning') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
