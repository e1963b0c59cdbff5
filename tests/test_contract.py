"""The model contract read back from a real exported model, and its one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper
from pydantic import ValidationError

from mlops_gitops.contract import (
    MISSING_CATEGORY,
    ContractError,
    Feature,
    ModelContract,
    open_session,
    read_contract,
)
from mlops_gitops.explain.explained_model import FeatureSpec
from mlops_gitops.monitoring.input_schema import FeatureSchema, InputSchema
from mlops_gitops.training import export_model, train_model


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("contract")
    rng = np.random.default_rng(3)
    rows = 300
    frame = pd.DataFrame(
        {
            "row_id": [f"R{i}" for i in range(rows)],
            "amount": rng.normal(size=rows),
            "region": rng.choice(["north", "south", None], size=rows),
        }
    )
    frame["tier"] = np.where(
        frame["amount"] > 0.3, "gold", np.where(frame["amount"] < -0.3, "bronze", "silver")
    )
    for split, part in (("train", frame[:200]), ("valid", frame[200:250]), ("test", frame[250:])):
        part.to_parquet(folder / f"{split}.parquet", index=False)
    train_model(
        train=folder / "train.parquet",
        valid=folder / "valid.parquet",
        trained=folder / "trained",
        live_dir=folder / "dvclive",
        settings={
            "name": "tiers",
            "family": "sklearn",
            "task": "multiclass",
            "sklearn": {"max_iter": 5},
        },
        label="tier",
        id_column="row_id",
    )
    export_model(
        trained=folder / "trained",
        test=folder / "test.parquet",
        model=folder / "model.onnx",
        metrics=folder / "export.json",
        settings={"opset": 18, "tolerance": 1e-4},
    )
    return folder / "model.onnx"


def test_the_contract_of_an_exported_model_names_task_classes_features_and_outputs(exported):
    model = read_contract(open_session(exported), what="tiers@v1")
    assert isinstance(model, ModelContract)
    assert (model.task, model.classes) == ("multiclass", ("bronze", "gold", "silver"))
    assert model.names == ("amount", "region")
    assert model.kinds == {"amount": "numeric", "region": "categorical"}
    assert model.categories == {"region": ["north", "south"]}
    assert model.input_types == {"amount": "tensor(float)", "region": "tensor(string)"}
    assert model.outputs == ("label", "probabilities")
    assert (model.label, model.family, model.model_name) == ("tier", "sklearn", "tiers")
    assert model.load_task().name == "multiclass"
    # The session scores the missing category as the contract spells it.
    session = open_session(exported)
    feeds = {
        "amount": np.array([[0.9]], dtype=np.float32),
        "region": np.array([[MISSING_CATEGORY]], dtype=object),
    }
    label, probabilities = session.run(None, feeds)
    assert model.classes[int(label[0])] == "gold" and probabilities.shape == (1, 3)


def test_a_missing_or_unloadable_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(
        ContractError, match=r"^m@v1: .*absent\.onnx: model not found; run 'dvc pull'"
    ):
        open_session(tmp_path / "absent.onnx", what="m@v1")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph")
    with pytest.raises(ContractError, match=r"junk\.onnx: not a loadable ONNX model$"):
        open_session(junk)


def _graph(path, *, input_type=TensorProto.FLOAT, props=None):
    node = helper.make_node("Identity", ["x"], ["label"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", input_type, [None, 1])],
        [helper.make_tensor_value_info("label", input_type, [None, 1])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    for key, value in (props or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, path)
    return path


def test_a_graph_without_metadata_reads_as_binary_with_kinds_from_its_inputs(tmp_path):
    model = read_contract(open_session(_graph(tmp_path / "bare.onnx")), what="bare")
    assert model.task == "binary" and model.classes == () and model.threshold is None
    assert model.features == (Feature(name="x", kind="numeric"),)


@pytest.mark.parametrize(
    ("input_type", "props", "message"),
    [
        (
            TensorProto.INT64,
            {},
            r"^m: input 'x' has type tensor\(int64\); expected tensor\(float\)",
        ),
        (TensorProto.FLOAT, {"features": "{not json"}, r"^m: the metadata 'features' is not JSON$"),
        (TensorProto.FLOAT, {"classes": '"a"'}, r"^m: the metadata 'classes' is not a list$"),
        (
            TensorProto.FLOAT,
            {"features": json.dumps([{"name": "x", "kind": "text"}])},
            r"^m: the metadata 'features' do not follow the contract$",
        ),
        (TensorProto.FLOAT, {"threshold": "high"}, r"^m: the metadata 'threshold' is not a number"),
    ],
)
def test_a_broken_contract_is_one_line_naming_the_model_and_the_field(
    tmp_path, input_type, props, message
):
    session = open_session(_graph(tmp_path / "m.onnx", input_type=input_type, props=props))
    with pytest.raises(ContractError, match=message):
        read_contract(session, what="m")


def test_a_recorded_threshold_is_read_as_a_number(tmp_path):
    session = open_session(_graph(tmp_path / "t.onnx", props={"threshold": "0.35"}))
    assert read_contract(session, what="t").threshold == 0.35


def test_features_recorded_by_name_only_take_their_kinds_from_the_inputs(tmp_path):
    session = open_session(_graph(tmp_path / "n.onnx", props={"features": '["x"]'}))
    assert read_contract(session, what="n").features == (Feature(name="x", kind="numeric"),)


def test_explanations_and_monitoring_hold_the_contracts_feature_plus_their_own_facts():
    region = Feature(name="region", kind="categorical", categories=["east", "west"])
    spec = FeatureSpec(feature=region)
    schema = FeatureSchema(feature=region, nullable=True)
    assert spec.feature is region and schema.feature is region
    assert (spec.name, spec.kind, spec.categories) == ("region", "categorical", ("east", "west"))
    assert schema.model_dump() == {
        "feature": region.model_dump(),
        "nullable": True,
        "minimum": None,
        "maximum": None,
    }


def test_a_reference_schema_written_flat_reads_into_the_contracts_feature():
    flat = (
        '{"features": [{"name": "age", "kind": "numeric", "nullable": false, "minimum": 18.0,'
        ' "maximum": 80.0, "categories": []}, {"name": "region", "kind": "categorical",'
        ' "nullable": true, "minimum": null, "maximum": null, "categories": ["east", "west"]}]}'
    )
    age, region = InputSchema.model_validate_json(flat).features
    assert age.feature == Feature(name="age", kind="numeric") and age.maximum == 80.0
    assert region.feature == Feature(name="region", kind="categorical", categories=["east", "west"])
    schema = InputSchema(features=(age, region))
    assert InputSchema.model_validate_json(schema.model_dump_json()) == schema


def test_a_feature_kind_outside_the_contract_is_refused_by_every_holder():
    with pytest.raises(ValidationError, match=r"feature\.kind"):
        FeatureSchema(name="x", kind="text")
    with pytest.raises(ValidationError, match=r"feature\.kind"):
        FeatureSpec(name="x", kind="text")
