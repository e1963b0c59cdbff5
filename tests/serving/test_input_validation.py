"""Real-time validation against the training schema, on a real server.

The schema of ``credit@v1.0.0`` is resolved from its registration (the
registered test set, by hash through the DVC cache): ages 18-80, incomes
around 50, regions north/south/east, never missing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest

from tests.helpers.serving import ROW, v2_body

pytestmark = pytest.mark.slow

BAD_AGE = {**ROW, "age": 200.0}
BAD_REGION = {**ROW, "region": "west"}


def _monitoring(root: Path, section: str) -> None:
    manifest = root / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text() + f"monitoring:\n{section}")


def _violations(text: str) -> dict[tuple[str, str], float]:
    found = re.findall(
        r'mlops_input_violations_total\{column="([^"]+)",kind="([^"]+)",model="credit",'
        r'version="v1.0.0"\} ([\d.]+)',
        text,
    )
    return {(column, kind): float(value) for column, kind, value in found}


def test_violations_are_counted_and_the_request_is_answered(registered_root, start_server):
    _monitoring(registered_root, "  reference: test\n")
    server = start_server(registered_root)
    server.wait_ready()
    with server.client() as client:
        answered = client.post("/v2/models/credit/infer", json=v2_body([ROW, BAD_AGE, BAD_AGE]))
        records = client.post("/v1/models/credit:predict", json={"instances": [BAD_REGION]})
        clean = client.post("/v2/models/credit/infer", json=v2_body([ROW]))
        text = client.get("/metrics").text
    ready = httpx.get(f"{server.url}/v2/health/ready").json()
    assert answered.status_code == records.status_code == clean.status_code == 200
    assert _violations(text) == {("age", "out_of_range"): 2.0, ("region", "unknown_category"): 1.0}
    assert ready["validation"] == {
        "enabled": True,
        "reject": False,
        "versions": {"credit@v1.0.0": {"validated": True}},
    }


def test_reject_refuses_invalid_rows_with_422_naming_field_and_row(registered_root, start_server):
    _monitoring(registered_root, "  reference: test\n  validation: {enabled: true, reject: true}\n")
    server = start_server(registered_root)
    server.wait_ready()
    with server.client() as client:
        tensors = client.post("/v2/models/credit/infer", json=v2_body([ROW, BAD_AGE]))
        records = client.post("/v1/models/credit:predict", json={"instances": [ROW, BAD_REGION]})
        clean = client.post("/v1/models/credit:predict", json={"instances": [ROW]})
        text = client.get("/metrics").text
    assert tensors.status_code == 422 and tensors.json()["field"] == "inputs[0].data[1]"
    message = tensors.json()["error"]
    assert message.startswith("inputs[0].data[1]: 200.0 for 'age' is outside the training range [")
    assert message.endswith("(1 of 2 row(s) violate the training schema)")
    assert records.status_code == 422 and records.json()["field"] == "instances[1].region"
    assert "'west' for 'region' is a category the training data never had" in records.text
    assert clean.status_code == 200
    assert _violations(text) == {("age", "out_of_range"): 1.0, ("region", "unknown_category"): 1.0}
    assert 'mlops_request_errors_total{code="422",model="credit",route="v2"} 1.0' in text


def test_disabled_validation_checks_nothing(registered_root, start_server):
    _monitoring(
        registered_root, "  reference: test\n  validation: {enabled: false, reject: true}\n"
    )
    server = start_server(registered_root)
    server.wait_ready()
    with server.client() as client:
        response = client.post("/v2/models/credit/infer", json=v2_body([BAD_AGE]))
        text = client.get("/metrics").text
    ready = httpx.get(f"{server.url}/v2/health/ready").json()
    assert response.status_code == 200
    assert _violations(text) == {}
    assert ready["validation"] == {"enabled": False, "reject": True, "versions": {}}


def test_version_without_a_resolvable_schema_serves_unchecked_and_says_why(
    serving_root, start_server, caplog
):
    _monitoring(serving_root, "  validation: {reject: true}\n")
    with caplog.at_level(logging.WARNING, logger="mlops_gitops.serving.validation"):
        server = start_server(serving_root)
        server.wait_ready()
    with server.client() as client:
        response = client.post("/v2/models/credit/infer", json=v2_body([BAD_AGE]))
    entry = httpx.get(f"{server.url}/v2/health/ready").json()["validation"]["versions"]
    assert response.status_code == 200
    assert entry["credit@v1.0.0"]["validated"] is False and entry["credit@v1.0.0"]["reason"]
    assert any(
        "credit@v1.0.0 serves without input validation" in r.getMessage() for r in caplog.records
    )


def test_a_failing_schema_resolver_never_fails_the_load(serving_root, start_server, caplog):
    def broken(root, model, settings):
        raise RuntimeError("resolver bug")

    with caplog.at_level(logging.ERROR, logger="mlops_gitops.serving.validation"):
        server = start_server(serving_root, resolve_schema=broken)
        server.wait_ready()
    entry = httpx.get(f"{server.url}/v2/health/ready").json()["validation"]["versions"]
    assert entry == {
        "credit@v1.0.0": {
            "validated": False,
            "reason": "internal error: RuntimeError('resolver bug')",
        }
    }
    assert any(r.exc_info for r in caplog.records)
