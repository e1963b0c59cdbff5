"""Features: kinds from dtypes, the missing-value convention, the label check."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.contract import MISSING_CATEGORY
from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.training import (
    ModelFamily,
    feature_frame,
    infer_features,
    list_families,
    load_family,
    onnx_feed,
)
from mlops_gitops.training.features import label_array, read_frame


def test_infer_features_takes_kinds_from_dtypes_and_skips_excluded():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "income": [1.0, np.nan, 3.0],
            "dependents": pd.array([1, None, 2], dtype="Int64"),
            "housing": ["own", None, "rent"],
            "region": pd.Categorical(["n", "s", "n"]),
            "default": [0, 1, 0],
        }
    )
    features = infer_features(frame, exclude={"customer_id", "default"})
    assert [(f.name, f.kind) for f in features] == [
        ("income", "numeric"),
        ("dependents", "numeric"),
        ("housing", "categorical"),
        ("region", "categorical"),
    ]
    assert features[2].categories == ["own", "rent"]
    assert features[3].categories == ["n", "s"]


def test_infer_features_refuses_a_column_that_is_neither_number_nor_text():
    frame = pd.DataFrame({"when": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    with pytest.raises(DataError, match=r"column 'when': dtype datetime64.*model.features.exclude"):
        infer_features(frame, exclude=())


def test_feature_frame_uses_empty_string_for_missing_categories_and_float32_numbers():
    frame = pd.DataFrame({"x": [0.1, np.nan], "c": ["a", None], "extra": [1, 2]})
    features = infer_features(frame[["x", "c"]], exclude=())
    prepared = feature_frame(frame, features)
    assert list(prepared.columns) == ["x", "c"]
    assert prepared["c"].tolist() == ["a", MISSING_CATEGORY]
    assert prepared["x"].iloc[0] == float(np.float32(0.1))
    assert np.isnan(prepared["x"].iloc[1])
    feed = onnx_feed(frame, features)
    assert feed["x"].dtype == np.float32 and feed["x"].shape == (2, 1)
    assert feed["c"].dtype == object and feed["c"].tolist() == [["a"], [""]]


def test_feature_frame_names_the_missing_feature_columns():
    features = infer_features(pd.DataFrame({"x": [1.0], "c": ["a"]}), exclude=())
    with pytest.raises(DataError, match="feature columns missing from the data: c"):
        feature_frame(pd.DataFrame({"x": [1.0]}), features)


def test_label_must_hold_zero_and_one_only():
    frame = pd.DataFrame({"default": [0, 1, 2]})
    with pytest.raises(
        DataError, match=r"t.parquet: label 'default' must hold 0 and 1 only \(found 2\)"
    ):
        label_array(frame, "default", origin="t.parquet")
    with pytest.raises(DataError, match=r"no label column 'target'; set data\.label"):
        label_array(frame, "target", origin="t.parquet")


def test_read_frame_names_a_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope.parquet: not found; run the stages before"):
        read_frame(tmp_path / "nope.parquet")


def test_builtin_families_are_registered_by_entry_point():
    families = list_families()
    assert families["sklearn"] == "mlops_gitops.training.sklearn_family:SklearnFamily"
    assert families["lightning"] == "mlops_gitops.training.lightning_family:LightningFamily"


def test_builtin_families_follow_the_protocol() -> None:
    from mlops_gitops.training.lightning_family import LightningFamily
    from mlops_gitops.training.sklearn_family import SklearnFamily

    # Annotated assignments: mypy checks the structural match, isinstance the runtime one.
    sklearn: ModelFamily = SklearnFamily()
    lightning: ModelFamily = LightningFamily()
    assert isinstance(load_family("sklearn"), SklearnFamily)
    assert isinstance(sklearn, ModelFamily) and isinstance(lightning, ModelFamily)


def test_unknown_family_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ConfigError) as info:
        load_family("xgboost")
    message = str(info.value)
    assert message.startswith("params.yaml model.family: unknown model family 'xgboost'")
    assert "known: lightning, sklearn" in message and "\n" not in message


def test_importing_training_and_evaluation_imports_no_heavy_library():
    code = (
        "import sys\n"
        "import mlops_gitops.training, mlops_gitops.evaluation\n"
        "heavy = ('torch', 'lightning', 'sklearn', 'onnx', 'onnxruntime', 'skl2onnx', 'dvclive')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", ["od280/od315", "sepal length (cm)", "1st", "a-b", "rate%"])
def test_a_column_name_that_cannot_be_an_onnx_input_is_refused_naming_the_rule(name):
    frame = pd.DataFrame({"ok_1": [1.0, 2.0], name: [3.0, 4.0]})
    with pytest.raises(DataError) as info:
        infer_features(frame, exclude=(), origin="data/prepared/train.parquet")
    assert str(info.value) == (
        f"data/prepared/train.parquet: column {name!r} cannot be a model input: a feature name "
        "holds letters, digits and '_' only and starts with no digit; rename it in the data "
        "(or in prepare) or add it to model.features.exclude"
    )


def test_an_excluded_column_may_have_any_name():
    frame = pd.DataFrame({"_x9": [1.0], "id (raw)": ["a"]})
    assert [f.name for f in infer_features(frame, exclude={"id (raw)"})] == ["_x9"]
