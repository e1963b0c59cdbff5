"""Serving pieces without a server: tokens, request decoding, plans, validation."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_gitops.errors import ConfigError
from mlops_gitops.serving.auth import TokenStore, read_tokens
from mlops_gitops.serving.codec import RequestError, decode_records, decode_v2
from mlops_gitops.serving.feedback import decode_feedback
from mlops_gitops.serving.model import ModelSchema, ServedInput
from mlops_gitops.serving.plan import ModelPlan, ServingPlan, Variant, restrict_plan
from mlops_gitops.serving.server import ServeOptions, _check_tls

SCHEMA = ModelSchema(
    (
        ServedInput("age", "numeric", "tensor(float)"),
        ServedInput("region", "categorical", "tensor(string)"),
    ),
    (),
)


def test_tokens_come_from_environment_and_file_with_roles(tmp_path):
    secret = tmp_path / "tokens"
    secret.write_text("# serving tokens\npredict:p2\n\nadmin:a2\n")
    store = read_tokens(
        {"MLOPS_PREDICT_TOKENS": "p1, ", "MLOPS_ADMIN_TOKENS": "a1"}, token_file=secret
    )
    assert store.allows(b"Bearer p1", "predict") is True
    assert store.allows(b"bearer p2", "admin") is False
    assert store.allows(b"Bearer a2", "admin") is True
    assert store.allows(b"Bearer nope", "predict") is None
    assert store.allows(None, "predict") is None
    assert store.allows(b"Basic p1", "predict") is None


def test_no_token_means_anonymous_access():
    assert TokenStore().allows(None, "admin") is True


def test_malformed_token_file_names_the_line_not_the_secret(tmp_path):
    secret = tmp_path / "tokens"
    secret.write_text("predict:ok\nroot:s3cret\n")
    with pytest.raises(ConfigError) as caught:
        read_tokens({}, token_file=secret)
    assert f"{secret}:2" in str(caught.value) and "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read"):
        read_tokens({"MLOPS_TOKEN_FILE": str(tmp_path / "missing")})


def test_v2_nested_data_and_integer_types_decode():
    payload = {
        "inputs": [
            {"name": "age", "datatype": "INT64", "shape": [2, 1], "data": [[30], [None]]},
            {"name": "region", "datatype": "BYTES", "shape": [2], "data": ["north", "east"]},
        ]
    }
    rows = decode_v2(payload, SCHEMA)
    assert rows.count == 2 and np.isnan(rows["age"][1]) and list(rows) == ["age", "region"]


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ([{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}] * 2, "inputs[1]"),
        ([{"name": "age", "datatype": "BYTES", "shape": [1], "data": [1]}], "inputs[0].datatype"),
        ([{"name": "age", "datatype": "FP32", "shape": "1", "data": [1]}], "inputs[0].shape"),
        ([{"name": "age", "datatype": "FP32", "shape": [1, 2], "data": [1]}], "inputs[0].shape"),
        ([{"name": "age", "datatype": "FP32", "shape": [1], "data": 1}], "inputs[0].data"),
        ([{"name": "age", "datatype": "FP32", "shape": [1], "data": [True]}], "inputs[0].data[0]"),
        (["age"], "inputs[0]"),
        (
            [
                {"name": "age", "datatype": "FP32", "shape": [1], "data": [1]},
                {"name": "region", "datatype": "BYTES", "shape": [1], "data": [3]},
            ],
            "inputs[1].data[0]",
        ),
        (
            [
                {"name": "age", "datatype": "FP32", "shape": [1], "data": [1]},
                {"name": "region", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]},
            ],
            "inputs[1]",
        ),
        ([{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}], "inputs"),
        (
            [{"name": "age", "datatype": "FP32", "shape": [2, 1], "data": [[1], 2]}],
            "inputs[0].data",
        ),
    ],
)
def test_v2_mistakes_name_the_field(inputs, field):
    with pytest.raises(RequestError) as caught:
        decode_v2({"inputs": inputs}, SCHEMA)
    assert caught.value.status == 422 and caught.value.field == field


@pytest.mark.parametrize(
    ("instances", "field"),
    [
        ([1], "instances[0]"),
        ([{"age": 1, "region": "n", "zip": 3}], "instances[0].zip"),
        ([{"age": "old", "region": "n"}], "instances[0].age"),
        ([], "instances"),
    ],
)
def test_record_mistakes_name_the_field(instances, field):
    with pytest.raises(RequestError) as caught:
        decode_records({"instances": instances}, SCHEMA)
    assert caught.value.field == field


def test_feedback_is_checked():
    assert decode_feedback({"request_id": "r", "label": 1.5}) == [("r", 1.5)]
    for bad in (
        [],
        {"request_id": "", "label": 1},
        {"request_id": "r", "label": [1]},
        {"request_id": "r", "label": True},
    ):
        with pytest.raises(RequestError):
            decode_feedback(bad)


def test_restrict_plan_keeps_one_version_with_all_traffic(tmp_path):
    plan = ServingPlan(
        env="dev",
        root=tmp_path,
        models=(
            ModelPlan(
                "credit",
                (Variant("v1", "m", "a" * 32, 0.9), Variant("v2", "m", "b" * 32, 0.1)),
                "canary",
            ),
            ModelPlan("churn", (Variant("v3", "m", "c" * 32),)),
        ),
    )
    only = restrict_plan(plan, ("credit=v2",))
    assert [(m.name, [(v.version, v.weight) for v in m.variants]) for m in only.models] == [
        ("credit", [("v2", 1.0)])
    ]
    assert restrict_plan(plan, ()) is plan
    with pytest.raises(Exception, match="pins credit at v1, v2"):
        restrict_plan(plan, ("credit=v9",))
    with pytest.raises(Exception, match="serves no model 'fraud'"):
        restrict_plan(plan, ("fraud",))


def test_tls_needs_both_files(tmp_path):
    with pytest.raises(ConfigError, match="both"):
        _check_tls(ServeOptions(ssl_certfile="cert.pem"))
    with pytest.raises(ConfigError, match="not found"):
        _check_tls(ServeOptions(ssl_certfile=str(tmp_path / "c"), ssl_keyfile=str(tmp_path / "k")))


def test_invalid_resources_are_refused_naming_the_field():
    from mlops_gitops.serving.kube import validate
    from mlops_gitops.serving.model import ServingError

    bad = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": "eighty"}]},
    }
    with pytest.raises(ServingError, match=r"Service/s spec\.ports\.0\.port"):
        validate(bad)
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m"},
        "spec": {
            "predictor": {
                "canaryTrafficPercent": 120,
                "containers": [{"name": "kserve-container", "image": "i"}],
            }
        },
    }
    with pytest.raises(ServingError, match="canaryTrafficPercent"):
        validate(isvc)


def test_a_refused_resource_keeps_its_cause_but_shows_one_line():
    from mlops_gitops.errors import format_chain
    from mlops_gitops.serving.kube import validate
    from mlops_gitops.serving.model import ServingError

    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": 1}}
    with pytest.raises(ServingError) as err:
        validate(bad)
    assert err.value.__cause__ is not None  # kept for --traceback
    assert format_chain(err.value) == str(err.value)
    assert "\n" not in str(err.value) and "Failed validating" not in format_chain(err.value)
