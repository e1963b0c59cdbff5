"""Red team: a manifest pin swapped to another valid ONNX file is never served or deployed.

Issue 12, attack 8: editing the md5 in ``envs/dev.yaml`` to another valid ONNX
file in the DVC cache served it (also by hot reload), and ``deploy`` with the
edit uncommitted rendered a Dockerfile copying it. Each attack runs the real
``mlops`` process on a real Git + DVC repository where ``credit`` v1.0.0 is
registered with one model and a second, valid model sits in the cache.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import run
from tests.helpers.serving import ROW, TOKENS, BuiltModel, cache_model, v2_body, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def swap(registered_root: Path, onnx_models: dict[str, BuiltModel]) -> tuple[Path, str, str]:
    """The registered project with the other valid model in its cache: (root, v1 md5, v2 md5)."""
    cache_model(registered_root, onnx_models["v2"])
    return registered_root, onnx_models["v1"].md5, onnx_models["v2"].md5


def swap_pin(root: Path, registered: str, other: str) -> None:
    manifest = root / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text().replace(registered, other))


def mlops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_gitops", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **TOKENS},
        check=False,
    )


def refusal(registered: str, other: str) -> str:
    return (
        f"error: envs/dev.yaml models.credit (stable): v1.0.0 pins models/model.onnx md5 {other} "
        f"but its registration (tag credit@v1.0.0) records models/model.onnx md5 {registered}"
    )


def test_serve_refuses_a_swapped_md5_at_start(swap):
    root, registered, other = swap
    swap_pin(root, registered, other)
    result = mlops(root, "serve", "--env", "dev", "--port", str(_free_port()))
    assert result.returncode == 1
    assert result.stderr.startswith(refusal(registered, other))
    assert result.stderr.count("error: ") == 1


def test_hot_reload_of_a_swapped_md5_keeps_the_old_models(swap, tmp_path):
    root, registered, other = swap
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"authorization": "Bearer predict-token"}
    command = [sys.executable, "-m", "mlops_gitops", "serve", "--env", "dev", "--root", str(root)]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **TOKENS},
        )
    try:
        wait_until(lambda: _ready(url), 60)
        before = httpx.post(f"{url}/v2/models/credit/infer", json=v2_body([ROW]), headers=headers)
        swap_pin(root, registered, other)  # the file watcher reloads the manifest
        wait_until(lambda: _last_reload(url).get("trigger") == "file-change", 60)
        last = _last_reload(url)
        after = httpx.post(f"{url}/v2/models/credit/infer", json=v2_body([ROW]), headers=headers)
    finally:
        proc.terminate()
        proc.wait(30)
    assert last["ok"] is False
    assert refusal(registered, other).removeprefix("error: ") in last["error"]
    assert after.status_code == 200 and after.headers["x-model-version"] == "v1.0.0"
    assert after.json()["outputs"] == before.json()["outputs"]


def test_deploy_never_renders_an_uncommitted_or_committed_swap(swap):
    root, registered, other = swap
    swap_pin(root, registered, other)
    uncommitted = mlops(root, "deploy", "--env", "dev", "--start", "none")
    assert uncommitted.returncode == 1
    assert uncommitted.stderr.startswith(
        "error: envs/dev.yaml has uncommitted changes; deploy acts on the committed manifest only"
    )
    assert not (root / "deploy").exists()
    run(["git", "commit", "-q", "-am", "Swap the pinned artifact"], root)
    committed = mlops(root, "deploy", "--env", "dev", "--start", "none", "--registry-check", "skip")
    assert committed.returncode == 1
    assert committed.stderr.startswith(refusal(registered, other))
    rendered = mlops(root, "render", "k8s", "--env", "dev")
    assert rendered.returncode == 1 and rendered.stderr.startswith(refusal(registered, other))
    assert not (root / "deploy").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _last_reload(url: str) -> dict[str, object]:
    last = httpx.get(f"{url}/v2/health/ready", timeout=2).json().get("last_reload") or {}
    return dict(last)


def test_the_gate_blocks_a_committed_pin_that_is_not_the_registered_one(project):
    import json

    from mlops_gitops.registry import promote, register

    run(["git", "commit", "-q", "-am", "This copy's DVC remote"], project)
    version = register(project, "credit-default", bump="minor").version
    done = promote(project, "credit-default", version, to="dev")
    run(["git", "merge", "--no-ff", "-q", "-m", f"Merge {done.branch}", done.branch], project)
    run(["git", "checkout", "-q", "-b", "swap-dev-artifact"], project)
    swap_pin(project, done.md5, "f" * 32)
    run(["git", "commit", "-q", "-am", "Swap the dev artifact"], project)
    gate = subprocess.run(
        [sys.executable, "-m", "mlops_gitops", "gate", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert gate.returncode == 3, gate.stderr
    result = next(
        r
        for r in json.loads(gate.stdout)["decision"]["results"]
        if r["id"] == "pins-match-registration"
    )
    assert result["outcome"] == "block"
    assert (
        f"envs/dev.yaml credit-default@{version} pins {'f' * 32}, registered {done.md5}"
        in (result["message"])
    )
