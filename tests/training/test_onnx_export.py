"""The ONNX export: raw columns in, the equivalence check, no half-written file on failure."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
from credit_frames import ID_COLUMN, LABEL, PII, model_settings

from mlops_gitops import stage
from mlops_gitops.training import ExportError, export_model, load_trained_model, train_model


@pytest.fixture(scope="module")
def sklearn_model(split, tmp_path_factory):
    """A trained sklearn model folder."""
    folder = tmp_path_factory.mktemp("sk") / "trained"
    train_model(
        train=split.train,
        valid=split.valid,
        trained=folder,
        settings=model_settings("sklearn"),
        label=LABEL,
        id_column=ID_COLUMN,
        pii=PII,
        live_dir=folder.parent / "dvclive",
    )
    return folder


def _export(model, split, folder, tolerance=1e-4):
    return export_model(
        trained=model,
        test=split.test,
        model=folder / "model.onnx",
        metrics=folder / "export.json",
        settings={"opset": 18, "tolerance": tolerance},
    )


@pytest.mark.slow
def test_onnx_takes_raw_columns_with_missing_and_unseen_values(sklearn_model, split, tmp_path):
    _export(sklearn_model, split, tmp_path)
    raw = {
        "income": [1.2, np.nan, 0.4],
        "loan_amount": [np.nan, 2.0, 1.0],
        "debt_to_income": [0.3, 0.9, np.nan],
        "credit_utilization": [0.1, np.nan, 0.5],
        "late_payments": [np.nan, 3.0, 0.0],
        "housing": ["rent", "", "castle"],
        "loan_purpose": ["", "car", "home"],
        "region": ["north", "", "south"],
        "age_band": ["18-25", "", "65+"],
    }
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    feed = {
        name: np.array(
            values, dtype=np.float32 if isinstance(values[0], float) else object
        ).reshape(-1, 1)
        for name, values in raw.items()
    }
    label, probabilities = session.run(["label", "probabilities"], feed)
    assert label.dtype == np.int64 and label.shape == (3,)
    assert probabilities.dtype == np.float32 and probabilities.shape == (3, 2)
    frame = pd.DataFrame({k: [None if v == "" else v for v in vs] for k, vs in raw.items()})
    expected = load_trained_model(sklearn_model).predict_proba(frame)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    np.testing.assert_array_equal(label, expected.argmax(axis=1))


@pytest.mark.slow
def test_tolerance_breach_fails_in_one_line_and_leaves_no_onnx(sklearn_model, split, tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"stale")
    with pytest.raises(ExportError) as info:
        _export(sklearn_model, split, tmp_path, tolerance=0.0)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("ONNX probabilities differ from the sklearn model by ")
    assert message.endswith(f"above export.tolerance 0; {tmp_path / 'model.onnx'} was not written")
    assert not (tmp_path / "model.onnx").exists()
    recorded = json.loads((tmp_path / "export.json").read_text())
    assert recorded["onnx_max_abs_diff"] > 0.0


@pytest.mark.slow
def test_export_stage_prints_one_error_line_on_breach(sklearn_model, split, tmp_path, capfd):
    def main() -> None:
        _export(sklearn_model, split, tmp_path, tolerance=0.0)

    assert stage.run_stage(main, name="export") == 1
    lines = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("[export]")]
    assert len(lines) == 1 and lines[0].startswith("[export] error: ONNX probabilities differ")


@pytest.mark.slow
def test_export_writes_the_configured_opset_and_metadata(sklearn_model, split, tmp_path):
    _export(sklearn_model, split, tmp_path)
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["opset"] == "18" and props["label"] == LABEL and props["positive_class"] == "1"
    assert 'categorical: "" (the empty string)' in props["missing_values"]
    for shape in (i.type.tensor_type.shape for i in proto.graph.input):
        assert shape.dim[1].dim_value == 1


def test_invalid_export_params_name_the_field(tmp_path):
    with pytest.raises(Exception, match=r"params.yaml export.tolerance: input should be greater"):
        export_model(
            trained=tmp_path,
            test=tmp_path / "t.parquet",
            model=tmp_path / "m.onnx",
            metrics=tmp_path / "e.json",
            settings={"tolerance": -1},
        )
