"""Monitoring where serving runs: the server writes to an S3 store, a monitor elsewhere reads it.

moto's S3 server runs on 127.0.0.1; a real ``mlops serve`` process writes its
prediction logs and feedback to ``s3://``; the drifted replay goes over HTTP;
then a monitoring run from another directory (a copy of the manifests only,
no shared disk with the server) reads the store and delivers the drift alert.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlops_gitops.monitoring.channels import ChannelContext
from mlops_gitops.monitoring.receiver import AlertReceiver
from tests.monitoring.test_demo import _project, _reference

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto.ints:DeprecationWarning"),
]

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 with bucket 'logs'; yields its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="logs")
    yield endpoint
    server.stop()


def _store(endpoint: str, *, bucket: str = "logs") -> str:
    return (
        f"{{store: {{url: 's3://{bucket}/predictions/dev', options: {{endpoint_url: '{endpoint}',"
        " client_kwargs: {region_name: us-east-1}, config_kwargs: {retries: {max_attempts: 1}}}}}"
    )


def _serve(root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mlops_gitops", "serve", "--env", "dev"]
    command += ["--root", str(root), "--port", str(port), "--registry-check", "skip"]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_monitor_elsewhere_finds_the_drift_alert_in_the_s3_store(
    tmp_path: Path, s3: str, receiver: AlertReceiver
) -> None:
    from mlops_gitops.monitoring.replay import replay_traffic
    from mlops_gitops.monitoring.run import run_monitoring

    server_root = tmp_path / "server" / "project"
    server_root.mkdir(parents=True)
    _project(server_root, receiver.url, _store(s3))
    port = _free_port()
    proc = _serve(server_root, port, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(url) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # polling for start-up with a deadline, not a timed wait
        assert _ready(url), (tmp_path / "serve.log").read_text()
        result = replay_traffic(url, "credit-default", rows=600, drift=1.0, batch=100)
    finally:
        proc.terminate()  # a graceful stop flushes the prediction log and the feedback
        proc.wait(30)
    assert (result.requests, result.failed, result.labels) == (6, 0, 600)
    assert not list(server_root.rglob("*.parquet")) and not list(server_root.rglob("*.jsonl"))

    clone = tmp_path / "monitor" / "clone"  # another machine: the manifests, nothing else
    shutil.copytree(server_root / "envs", clone / "envs")
    run = run_monitoring(
        "dev", root=clone, resolve=_reference, sleep=lambda _: None,
        context=ChannelContext(environ={"HOOK_KEY": "s3cret"}),
    )  # fmt: skip
    [model] = run.models
    assert model.result.rows == 600
    assert model.indicators["performance.labelled_rows"] == 600
    assert [a.alert.rule for a in run.alerts] == ["data-drift"]
    [got] = receiver.received
    assert got.verified is True and got.body["env"] == "dev"


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("{store: {url: 'ftp://host/logs'}}", "unsupported store scheme 'ftp'"),
        ("STORE_UNREACHABLE", "cannot list the store"),
        ("STORE_NO_BUCKET", "does not exist"),
    ],
)
def test_serve_refuses_a_store_it_cannot_use_in_one_line(
    tmp_path: Path, s3: str, store: str, expected: str
) -> None:
    if store == "STORE_UNREACHABLE":
        store = _store(f"http://127.0.0.1:{_free_port()}")
    elif store == "STORE_NO_BUCKET":
        store = _store(s3, bucket="missing")
    root = tmp_path / "project"
    root.mkdir()
    _project(root, "http://127.0.0.1:9/hook", store)
    command = [sys.executable, "-m", "mlops_gitops", "serve", "--env", "dev", "--root", str(root)]
    command += ["--registry-check", "skip"]  # the project has no Git history of registrations
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=120, env=os.environ
    )
    # JSON log records aside (the no-token warning), the error is one line
    lines = [x for x in done.stderr.strip().splitlines() if not x.startswith("{")]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
