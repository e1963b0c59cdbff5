"""Hot reload: atomic swaps under traffic, failed loads keep the old set."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.helpers.serving import ROW, manifest_text, v2_body, wait_until

pytestmark = pytest.mark.slow


def _traffic(url: str, stop: threading.Event, seen: list[tuple[int, str]]) -> None:
    headers = {"authorization": "Bearer predict-token"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            response = client.post("/v2/models/credit/infer", json=v2_body([ROW]))
            seen.append((response.status_code, response.headers.get("x-model-version", "")))


def test_reload_under_traffic_fails_no_request(serving_root, onnx_models, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    stop, seen = threading.Event(), []
    clients = [threading.Thread(target=_traffic, args=(server.url, stop, seen)) for _ in range(3)]
    for thread in clients:
        thread.start()
    manifest = serving_root / "envs" / "dev.yaml"
    admin = server.client("admin-token")
    try:
        for rollout in ("canary", "direct", "ab", "direct"):
            manifest.write_text(manifest_text(onnx_models, rollout=rollout, weight=50))
            assert admin.post("/admin/reload").status_code == 200
        wait_until(lambda: len(seen) > 50, 30)
    finally:
        stop.set()
        for thread in clients:
            thread.join(10)
        admin.close()
    statuses = {status for status, _ in seen}
    assert statuses == {200}, statuses
    assert {version for _, version in seen} >= {"v1.0.0", "v2.0.0"}


def test_failed_reload_keeps_serving_the_old_set(serving_root, onnx_models, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    manifest = serving_root / "envs" / "dev.yaml"
    manifest.write_text(manifest_text(onnx_models).replace(onnx_models["v1"].md5, "deadbeef" * 4))
    with server.client("admin-token") as admin:
        reload = admin.post("/admin/reload")
        infer = admin.post("/v2/models/credit/infer", json=v2_body([ROW]))
        metrics = admin.get("/metrics").text
    ready = httpx.get(f"{server.url}/v2/health/ready")
    assert reload.status_code == 409 and "deadbeef" in reload.json()["error"]
    assert infer.status_code == 200 and infer.headers["x-model-version"] == "v1.0.0"
    assert ready.status_code == 200
    details = ready.json()["last_reload"]
    assert details["ok"] is False and "credit@v1.0.0" in details["error"]
    assert "mlops_reload_last_success 0.0" in metrics
    assert 'mlops_reloads_total{outcome="failed"} 1.0' in metrics


def test_invalid_manifest_reload_names_the_file(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    (serving_root / "envs" / "dev.yaml").write_text("models:\n  credit:\n    version: nope\n")
    with server.client("admin-token") as admin:
        reload = admin.post("/admin/reload")
    assert reload.status_code == 409
    assert "envs/dev.yaml" in reload.json()["error"]


def test_manifest_change_on_disk_is_picked_up(serving_root, onnx_models, start_server):
    server = start_server(serving_root, watch_interval=0.05)
    server.wait_ready()
    manifest = serving_root / "envs" / "dev.yaml"
    manifest.write_text(manifest_text(onnx_models, rollout="canary", weight=50))

    def both_loaded() -> bool:
        return httpx.get(f"{server.url}/v2/health/ready").json()["models"]["credit"] == [
            "v1.0.0",
            "v2.0.0",
        ]

    wait_until(both_loaded, 30)


def test_artifact_with_another_hash_is_refused(serving_root, onnx_models, start_server):
    v1 = onnx_models["v1"]
    cached = serving_root / ".dvc" / "cache" / "files" / "md5" / v1.md5[:2] / v1.md5[2:]
    cached.write_bytes(onnx_models["v2"].path.read_bytes())
    server = start_server(serving_root)
    wait_until(lambda: "last_reload" in httpx.get(f"{server.url}/v2/health/ready").json(), 30)
    ready = httpx.get(f"{server.url}/v2/health/ready")
    assert ready.status_code == 503
    assert "refusing to load" in ready.json()["last_reload"]["error"]
