"""A real server on 127.0.0.1: protocol routes, routing, auth and refusals."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.helpers.serving import ROW, manifest_text, v2_body, wait_until

pytestmark = pytest.mark.slow


def test_infer_v2_answers_with_outputs_and_serving_version(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        response = client.post("/v2/models/credit/infer", json=v2_body([ROW, ROW]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["x-model-version"] == body["model_version"] == "v1.0.0"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["label"]["datatype"] == "INT64" and outputs["label"]["shape"] == [2]
    assert (
        outputs["probabilities"]["shape"] == [2, 2] and len(outputs["probabilities"]["data"]) == 4
    )


def test_records_route_predicts_each_instance(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        response = client.post(
            "/v1/models/credit:predict", json={"instances": [ROW, {**ROW, "age": 20.0}]}
        )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    assert all(p["label"] in (0, 1) and 0.0 <= p["score"] <= 1.0 for p in predictions)


def test_metadata_describes_the_input_schema(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        body = client.get("/v2/models/credit").json()
        ready = client.get("/v2/models/credit/ready").json()
    inputs = {i["name"]: (i["datatype"], i["parameters"]["kind"]) for i in body["inputs"]}
    assert inputs == {
        "age": ("FP32", "numeric"),
        "income": ("FP32", "numeric"),
        "region": ("BYTES", "categorical"),
    }
    assert body["versions"] == ["v1.0.0"] and ready["ready"] is True


def test_readiness_is_503_until_the_models_have_loaded(serving_root, start_server):
    from mlops_gitops.serving.plan import read_plan

    gate = threading.Event()

    def slow_plan():
        gate.wait(30)
        return read_plan(serving_root, "dev")

    server = start_server(serving_root, load_plan=slow_plan)
    before = httpx.get(f"{server.url}/v2/health/ready")
    live = httpx.get(f"{server.url}/v2/health/live")
    with server.client() as client:
        early = client.post("/v2/models/credit/infer", json=v2_body([ROW]))
    gate.set()
    server.wait_ready()
    assert before.status_code == 503 and before.json()["ready"] is False
    assert live.status_code == 200
    assert early.status_code == 503 and "loading" in early.json()["error"]


def test_canary_weight_splits_traffic_within_tolerance(serving_root, onnx_models, start_server):
    (serving_root / "envs" / "dev.yaml").write_text(
        manifest_text(onnx_models, rollout="canary", weight=30)
    )
    server = start_server(serving_root)
    server.wait_ready()
    n = 600
    with server.client() as client:
        versions = [
            client.post("/v2/models/credit/infer", json=v2_body([ROW])).headers["x-model-version"]
            for _ in range(n)
        ]
    canary = versions.count("v2.0.0")
    # binomial(600, 0.3): mean 180, sd 11.2; +-5 sd
    assert 124 <= canary <= 236, canary
    assert set(versions) == {"v1.0.0", "v2.0.0"}


def test_routing_key_is_sticky_and_versions_can_be_addressed(
    serving_root, onnx_models, start_server
):
    (serving_root / "envs" / "dev.yaml").write_text(
        manifest_text(onnx_models, rollout="ab", weight=50)
    )
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        per_key = {}
        for key in ("alice", "bob", "carol", "dave", "erin", "frank"):
            seen = {
                client.post(
                    "/v2/models/credit/infer", json=v2_body([ROW]), headers={"x-routing-key": key}
                ).headers["x-model-version"]
                for _ in range(5)
            }
            per_key[key] = seen
        explicit = client.post("/v2/models/credit/versions/v2.0.0/infer", json=v2_body([ROW]))
        unknown = client.post("/v2/models/credit/versions/v9.9.9/infer", json=v2_body([ROW]))
    assert all(len(seen) == 1 for seen in per_key.values()), per_key
    assert explicit.json()["model_version"] == "v2.0.0"
    assert unknown.status_code == 404 and "v9.9.9" in unknown.json()["error"]


@pytest.mark.parametrize(
    ("token", "path", "status"),
    [
        (None, "/v2/models/credit/infer", 401),
        ("wrong", "/v2/models/credit/infer", 401),
        ("predict-token", "/admin/reload", 403),
        ("admin-token", "/v2/models/credit/infer", 200),
        ("admin-token", "/admin/reload", 200),
    ],
)
def test_auth_requires_a_token_with_the_route_role(serving_root, start_server, token, path, status):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client(token) as client:
        response = client.post(path, json=v2_body([ROW]))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["error"] and "predict-token" not in response.text


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"inputs": []}', 422, "inputs"),
        (
            b'{"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": ["old"]}]}',
            422,
            "inputs[0].data[0]",
        ),
        (
            b'{"inputs": [{"name": "zip", "datatype": "FP32", "shape": [1], "data": [1]}]}',
            422,
            "unknown input",
        ),
        (
            b'{"inputs": [{"name": "age", "datatype": "FP32", "shape": [2], "data": [1]}]}',
            422,
            "shape",
        ),
    ],
)
def test_malformed_requests_get_a_4xx_with_a_message(
    serving_root, start_server, content, status, needle
):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        response = client.post(
            "/v2/models/credit/infer", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == status
    assert needle in response.json()["error"]


def test_records_name_the_offending_field(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        missing = client.post(
            "/v1/models/credit:predict", json={"instances": [ROW, {"age": 1, "income": 2}]}
        )
        wrong = client.post("/v1/models/credit:predict", json={"instances": [{**ROW, "region": 3}]})
    assert missing.status_code == 422 and missing.json()["field"] == "instances[1].region"
    assert wrong.status_code == 422 and wrong.json()["field"] == "instances[0].region"


def test_oversized_body_is_refused_with_413(serving_root, start_server):
    server = start_server(serving_root, max_body=1000)
    server.wait_ready()
    with server.client() as client:
        response = client.post("/v2/models/credit/infer", json=v2_body([ROW] * 100))
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_unknown_model_and_route_are_json_404s(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        model = client.post("/v2/models/nope/infer", json=v2_body([ROW]))
        route = client.get("/nowhere")
        method = client.get("/v2/models/credit/infer")
    assert model.status_code == 404 and "nope" in model.json()["error"]
    assert route.status_code == 404 and route.json()["error"]
    assert method.status_code == 405


def test_metrics_count_requests_per_model_version_and_route(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        client.post("/v2/models/credit/infer", json=v2_body([ROW]))
        client.post("/v1/models/credit:predict", json={"instances": [ROW]})
        client.post("/v2/models/credit/infer", content=b"{")
        text = client.get("/metrics").text
    assert 'mlops_requests_total{code="200",model="credit",route="v2",version="v1.0.0"} 1.0' in text
    assert (
        'mlops_request_duration_seconds_count{model="credit",route="v1",version="v1.0.0"} 1.0'
        in text
    )
    assert 'mlops_request_errors_total{code="400",model="credit",route="v2"} 1.0' in text
    assert "mlops_model_info{md5=" in text
    assert "process_resident_memory_bytes" in text


def test_server_serves_its_openapi_description(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    doc = httpx.get(f"{server.url}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/v2/models/{name}/infer" in doc["paths"]
    records = doc["paths"]["/v1/models/{name}:predict"]["post"]["requestBody"]["content"]
    assert set(
        records["application/json"]["schema"]["properties"]["instances"]["items"]["properties"]
    ) == {"age", "income", "region"}


def test_live_is_cheap_and_ready_lists_models(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    ready = httpx.get(f"{server.url}/v2/health/ready").json()
    assert ready["models"] == {"credit": ["v1.0.0"]} and ready["auth"] == "on"
    wait_until(lambda: httpx.get(f"{server.url}/v2/health/live").json()["live"], 5)


def test_large_batches_are_scored_off_the_event_loop(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    rows = [{**ROW, "age": float(20 + i % 60)} for i in range(300)]
    with server.client() as client:
        response = client.post("/v2/models/credit/infer", json=v2_body(rows))
        live = client.get("/v2/health/live")
    assert response.status_code == 200 and live.status_code == 200
    assert response.json()["outputs"][0]["shape"] == [300]
