"""The serving commands: serve, predict, export-edge, render k8s, deploy."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys

import httpx
import pandas as pd
import pytest

from tests.helpers.serving import ROW, TOKENS, manifest_text, v2_body, wait_until

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_reloads_on_sighup(registered_pair, onnx_models, tmp_path):
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_gitops",
            "serve",
            "--env",
            "dev",
            "--root",
            str(registered_pair),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **TOKENS},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), 60)
        headers = {"authorization": "Bearer predict-token"}
        first = httpx.post(f"{url}/v2/models/credit/infer", json=v2_body([ROW]), headers=headers)
        (registered_pair / "envs" / "dev.yaml").write_text(
            manifest_text(onnx_models, rollout="canary", weight=50)
        )
        proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: (
                httpx.get(f"{url}/v2/health/ready").json()["models"]["credit"]
                == ["v1.0.0", "v2.0.0"]
            ),
            60,
        )
        pid = json.loads((registered_pair / ".mlops" / "serve" / "dev.json").read_text())["pid"]
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert first.status_code == 200 and first.headers["x-model-version"] == "v1.0.0"
    assert pid == proc.pid
    lines = [
        json.loads(x)
        for x in (tmp_path / "serve.log").read_text().splitlines()
        if x.startswith("{")
    ]
    access = [x for x in lines if x.get("path") == "/v2/models/credit/infer"]
    assert access and access[0]["status"] == 200 and "predict-token" not in str(lines)
    assert not (registered_pair / ".mlops" / "serve" / "dev.json").exists()
    # the prediction log is flushed on shutdown
    logs = registered_pair / "logs" / "predictions" / "dev" / "credit"
    assert list(logs.glob("part-*.parquet"))


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_refuses_an_unknown_environment(cli, serving_root):
    result = cli("serve", "--env", "qa", "--root", str(serving_root))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown environment 'qa'")
    assert result.stderr.count("\n") == 1


def test_predict_scores_a_csv_larger_than_the_chunk(cli, serving_root, tmp_path):
    rows = 250
    frame = pd.DataFrame(
        {
            "id": range(rows),
            "age": [20.0 + i % 60 for i in range(rows)],
            "income": 50.0,
            "region": ["north", "south"] * (rows // 2),
        }
    )
    frame.to_csv(tmp_path / "in.csv", index=False)
    result = cli(
        "predict",
        "--env",
        "dev",
        "--model",
        "credit",
        "--input",
        str(tmp_path / "in.csv"),
        "--output",
        str(tmp_path / "out.parquet"),
        "--chunk-rows",
        "100",
        "--root",
        str(serving_root),
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == rows and report["chunks"] == 3 and report["version"] == "v1.0.0"
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["id", "prediction", "score"]
    assert out["id"].tolist() == list(range(rows)) and out["prediction"].isin([0, 1]).all()


def test_predict_names_a_missing_feature_column(cli, serving_root, tmp_path):
    pd.DataFrame({"age": [1.0], "income": [2.0]}).to_parquet(tmp_path / "in.parquet")
    result = cli(
        "predict",
        "--env",
        "dev",
        "--model",
        "credit",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "out.csv"),
        "--root",
        str(serving_root),
    )
    assert result.exit_code == 1
    assert "missing feature column(s) region" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out.csv").exists()


def test_export_edge_writes_both_models_and_a_manifest(cli, registered_root):
    result = cli("export-edge", "credit", "v1.0.0", "--root", str(registered_root), "--json")
    assert result.exit_code == 0, result.stderr
    folder = registered_root / "build" / "edge" / "credit-v1.0.0"
    manifest = json.loads((folder / "edge-manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "model.int8.onnx"}
    assert [i["name"] for i in manifest["inputs"]] == ["age", "income", "region"]
    metrics = manifest["metrics"]
    assert metrics["test_set"]["rows"] == 80 and metrics["test_set"]["label"] == "default"
    assert set(metrics["delta"]) >= {"accuracy", "roc_auc"}


def test_export_edge_refuses_an_unregistered_version(cli, registered_root):
    result = cli("export-edge", "credit", "v9.9.9", "--root", str(registered_root))
    assert result.exit_code == 1 and "v9.9.9" in result.stderr
    assert result.stderr.count("\n") == 1


def test_render_k8s_writes_resources_that_validate(cli, registered_pair, onnx_models):
    (registered_pair / "envs" / "dev.yaml").write_text(
        manifest_text(onnx_models, rollout="canary", weight=20)
        + "  autoscaling: {min_replicas: 2, max_replicas: 5, target_cpu_utilization: 60}\n"
    )
    result = cli("render", "k8s", "--env", "dev", "--root", str(registered_pair), "--json")
    assert result.exit_code == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert set(rendered["resources"]) >= {
        "Deployment/mlops-serving-dev",
        "Service/mlops-serving-dev",
        "HorizontalPodAutoscaler/mlops-serving-dev",
        "InferenceService/credit-dev",
        "Kustomization",
    }
    folder = registered_pair / "deploy" / "dev"
    isvc = (folder / "inferenceservice.yaml").read_text()
    assert "canaryTrafficPercent: 20" in isvc and "credit=v2.0.0" in isvc
    docker = (folder / "Dockerfile").read_text()
    assert onnx_models["v1"].md5[2:] in docker and onnx_models["v2"].md5[2:] in docker
    # the image has no Git history: the render compared the pins, the image's server does not
    assert '"--registry-check", "skip"' in docker
    assert "--registry-check" in (folder / "deployment.yaml").read_text()


def test_render_k8s_refuses_an_invalid_manifest(cli, serving_root):
    (serving_root / "envs" / "dev.yaml").write_text("models:\n  credit: {version: v1}\n")
    result = cli("render", "k8s", "--env", "dev", "--root", str(serving_root))
    assert result.exit_code == 1 and result.stderr.startswith("error: envs/dev.yaml:2")
    assert not (serving_root / "deploy").exists()


def test_deploy_verifies_renders_then_starts_and_reloads_the_local_server(cli, registered_root):
    port = _free_port()
    args = ("deploy", "--env", "dev", "--root", str(registered_root), "--port", str(port), "--json")
    started = cli(*args)
    try:
        assert started.exit_code == 0, started.stderr
        first = json.loads(started.stdout)
        again = json.loads(cli(*args).stdout)
    finally:
        running = json.loads((registered_root / ".mlops" / "serve" / "dev.json").read_text())
        os.kill(running["pid"], signal.SIGTERM)
    assert first["action"] == "started" and again["action"] == "reloaded"
    assert first["registry_checks"] >= 3 and first["artifacts"][0]["version"] == "v1.0.0"
    assert (registered_root / "deploy" / "dev" / "deployment.yaml").is_file()


def test_deploy_refuses_an_artifact_whose_bytes_changed(cli, registered_root, onnx_models):
    v1 = onnx_models["v1"]
    cached = registered_root / ".dvc" / "cache" / "files" / "md5" / v1.md5[:2] / v1.md5[2:]
    cached.write_bytes(b"not the model")
    result = cli(
        "deploy",
        "--env",
        "dev",
        "--root",
        str(registered_root),
        "--start",
        "none",
        "--registry-check",
        "skip",
    )
    assert result.exit_code == 1 and "refusing to load it" in result.stderr
    assert result.stderr.count("\n") == 1


def _self_signed(folder):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    import ipaddress

    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


def test_serve_speaks_tls_with_uvicorns_options(registered_root, tmp_path):
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_gitops",
            "serve",
            "--env",
            "dev",
            "--root",
            str(registered_root),
            "--port",
            str(port),
            "--ssl-certfile",
            str(cert),
            "--ssl-keyfile",
            str(key),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **TOKENS},
    )
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert))

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/v2/health/ready", verify=trust, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 60)
        response = httpx.post(
            f"{url}/v1/models/credit:predict",
            json={"instances": [ROW]},
            headers={"authorization": "Bearer predict-token"},
            verify=trust,
        )
    finally:
        proc.terminate()
        proc.wait(30)
    assert response.status_code == 200 and response.json()["model_version"] == "v1.0.0"
