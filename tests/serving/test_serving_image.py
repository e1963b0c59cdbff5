"""The serving image of a scaffolded project: its install and start steps, run for real.

No container engine runs in the test environment, so the rendered
Dockerfile is executed step by step into a clean root: FROM is a fresh
virtual environment of the system's Python 3.11 (no site packages of ours),
COPY copies from the project as the build context, RUN runs in bash with
the image's paths (``/srv``, ``/opt/mlops-image``, the token folder) moved
under that root, USER switches the uid for the following steps, and the
ENTRYPOINT + CMD start the server as uid 65534. The packages come from the
rendered ``requirements.lock`` with ``--no-deps`` (the machine's pip
settings: its index and wheel folders); the toolkit is a wheel built from
this checkout and put in ``deploy/dev/wheels/``, as the Dockerfile says.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

import mlops_gitops
from mlops_gitops import __version__
from mlops_gitops.serving.image import SERVE_DIR, SERVE_UID, STAGING_DIR, serving_requirements
from mlops_gitops.serving.kube import TOKEN_DIR, image_serve_args, render_k8s
from mlops_gitops.serving.model import ServingError
from mlops_gitops.serving.plan import read_plan

BASE_PYTHON = Path("/usr/bin/python3.11")
TOKEN = "image-test-token"
# what the build host lends every build: its package index, wheel folders and CA bundle
PASSED = re.compile(r"^(PIP_|SSL_CERT_|REQUESTS_CA_BUNDLE$|LANG$)")


@dataclass
class Image:
    """A root folder the Dockerfile's steps run into."""

    root: Path
    context: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "/"
    user: str | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)

    def path(self, text: str) -> str:
        """Move the image's absolute paths under the root."""
        for prefix in (SERVE_DIR, STAGING_DIR, TOKEN_DIR):
            text = re.sub(
                rf"(?<![\w/.-]){re.escape(prefix)}(?=/|\s|$|\")", f"{self.root}{prefix}", text
            )
        return text

    def as_user(self, argv: list[str]) -> list[str]:
        if self.user is None:
            return argv
        uid, _, gid = self.user.partition(":")
        return ["setpriv", f"--reuid={uid}", f"--regid={gid or uid}", "--clear-groups", *argv]

    def proc_env(self) -> dict[str, str]:
        venv = self.root / "venv" / "bin"
        base = {k: v for k, v in os.environ.items() if PASSED.match(k)}
        path = f"{venv}:/usr/local/bin:/usr/bin:/bin"
        return {**base, "PATH": path, "HOME": str(self.root / "home"), **self.env}


def _build(image: Image, dockerfile: str) -> None:
    for line in dockerfile.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        op, _, rest = line.strip().partition(" ")
        _step(image, op.upper(), rest.strip())


def _step(image: Image, op: str, rest: str) -> None:  # noqa: C901, PLR0912
    if op == "ARG":
        name, _, default = rest.partition("=")
        image.args[name] = default
    elif op == "FROM":
        subprocess.run([str(BASE_PYTHON), "-m", "venv", str(image.root / "venv")], check=True)
        (image.root / "home").mkdir(mode=0o777)
    elif op == "ENV":
        for item in shlex.split(rest):
            key, _, value = item.partition("=")
            image.env[key] = image.path(value)
    elif op == "COPY":
        src, dst = rest.split()
        target = Path(image.path(dst))
        if src.endswith("/"):
            shutil.copytree(image.context / src, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image.context / src, target)
    elif op == "WORKDIR":
        image.cwd = image.path(rest)
        Path(image.cwd).mkdir(parents=True, exist_ok=True)
    elif op == "RUN":
        env = {**image.args, **image.proc_env()}
        argv = image.as_user(["bash", "-c", image.path(rest)])
        proc = subprocess.run(
            argv, cwd=image.cwd, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"RUN {rest}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    elif op == "USER":
        image.user = rest
    elif op == "ENTRYPOINT":
        image.entrypoint = yaml.safe_load(rest)
    elif op == "CMD":
        image.cmd = yaml.safe_load(rest)
    elif op != "EXPOSE":
        raise AssertionError(f"the test does not know the Dockerfile step {op}")


def _pin_trained_model(project: Path) -> str:
    from mlops_gitops.registry import register
    from tests.helpers import run

    run(["git", "commit", "-q", "--allow-empty", "-am", "Use this copy's DVC remote"], project)
    register(project, "credit-default", version="v1.0.0", check_remote=False)
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    (out,) = [o for o in lock["stages"]["export"]["outs"] if o["path"] == "models/model.onnx"]
    manifest = project / "envs" / "dev.yaml"
    block = (
        "models:\n  credit-default:\n    version: v1.0.0\n"
        f"    artifact: {{path: models/model.onnx, md5: {out['md5']}}}\n"
    )
    manifest.write_text(manifest.read_text().replace("models: {}\n", block))
    return str(out["md5"])


def _toolkit_wheel(folder: Path) -> None:
    source = Path(mlops_gitops.__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def image_root() -> Iterator[Path]:
    """A root folder every uid can reach (pytest's own temporary folder is root's only)."""
    root = Path(tempfile.mkdtemp(prefix="mlops-image-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(
    not BASE_PYTHON.is_file() or os.geteuid() != 0, reason="needs root and Python 3.11"
)
def test_the_image_of_a_scaffolded_project_installs_from_the_lock_and_serves_as_non_root(
    project: Path, image_root: Path
):
    md5 = _pin_trained_model(project)
    rendered = render_k8s(project, "dev")
    _toolkit_wheel(rendered.folder / "wheels")
    image = Image(image_root, context=project)
    _build(image, (rendered.folder / "Dockerfile").read_text())
    assert image.user == f"{SERVE_UID}:{SERVE_UID}"
    installed = subprocess.run(
        [str(image_root / "venv" / "bin" / "python"), "-m", "pip", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pinned = [
        line
        for line in (rendered.folder / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    # exactly the lock (pip freeze leaves out setuptools and spells names its own way)
    assert {_name(p) for p in installed} == {_name(p) for p in pinned} - {"setuptools"}
    assert not any(p.startswith(("torch", "lightning")) for p in installed)
    served = Path(image.path(f"{SERVE_DIR}/.dvc/cache/files/md5/{md5[:2]}/{md5[2:]}"))
    assert served.stat().st_uid == 0 and not served.stat().st_mode & 0o002

    token_dir = Path(image.path(TOKEN_DIR))
    token_dir.mkdir(parents=True)
    (token_dir / "tokens").write_text(f"predict:{TOKEN}\n")
    (token_dir / "tokens").chmod(0o644)
    port = _free_port()
    command = [*image.entrypoint, *image.cmd]
    command[command.index("--port") + 1] = str(port)
    server = subprocess.Popen(
        image.as_user(command),
        cwd=image.cwd,
        env=image.proc_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        row = pd.read_parquet(project / "data" / "prepared" / "test.parquet").iloc[0]
        answer = _infer_when_ready(port, row, server)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert answer.status_code == 200, output[-3000:]
    body = answer.json()
    assert body["model_name"] == "credit-default" and body["outputs"], body
    logs = Path(image.path(f"{SERVE_DIR}/logs"))
    assert logs.stat().st_uid == SERVE_UID


def _name(line: str) -> str:
    return re.split(r"[=<>@ ]", line, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _infer_when_ready(port: int, row: pd.Series, server: subprocess.Popen[bytes]) -> httpx.Response:
    url = f"http://127.0.0.1:{port}"
    headers = {"authorization": f"Bearer {TOKEN}"}
    end = time.monotonic() + 120
    while time.monotonic() < end and server.poll() is None:
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    meta = httpx.get(f"{url}/v2/models/credit-default", headers=headers, timeout=10).json()
    inputs = []
    for spec in meta["inputs"]:
        value = row[spec["name"]]
        text = spec["datatype"] == "BYTES"
        inputs.append(
            {
                "name": spec["name"],
                "datatype": spec["datatype"],
                "shape": [1, 1],
                "data": [str(value) if text else float(value)],
            }
        )
    body = {"inputs": inputs}
    return httpx.post(
        f"{url}/v2/models/credit-default/infer", json=body, headers=headers, timeout=30
    )


def test_the_dockerfile_builds_from_the_project_not_from_the_toolkit_source(registered_pair):
    serving_root = registered_pair
    rendered = render_k8s(serving_root, "dev")
    docker = (rendered.folder / "Dockerfile").read_text()
    copies = [line.split()[1] for line in docker.splitlines() if line.startswith("COPY ")]
    assert copies[0] == "deploy/dev/" and "envs/" in copies
    assert all((serving_root / src).exists() for src in copies if src != "deploy/dev/")
    assert "pyproject.toml" not in docker and "mlops_gitops/" not in docker
    assert f"USER {SERVE_UID}:{SERVE_UID}" in docker and "--no-deps" in docker
    assert docker.index("USER") < docker.index("mlops serve --env dev --check")
    cmd = json.loads(docker.split("\nCMD ", 1)[1])
    assert cmd == image_serve_args(read_plan(serving_root, "dev"))
    pins = [
        line
        for line in (rendered.folder / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert pins[0] == f"mlops-gitops=={__version__}"
    assert all(re.fullmatch(r"[a-z0-9.-]+==\S+", line) for line in pins), pins
    names = {line.split("==")[0] for line in pins}
    assert {"onnxruntime", "uvicorn", "fastapi", "dvc"} <= names and "torch" not in names


def test_the_image_refuses_a_closure_the_lock_does_not_pin():
    with pytest.raises(ServingError, match=r"pins no version of '[a-z0-9-]+' \(needed by"):
        serving_requirements(lock={})


def test_serve_check_loads_the_pinned_models_and_fails_on_changed_bytes(
    cli, serving_root, onnx_models
):
    check = ("serve", "--env", "dev", "--root", str(serving_root), "--check")
    ok = cli(*check, "--registry-check", "skip")
    assert ok.exit_code == 0, ok.stderr
    assert "credit" in ok.stdout and onnx_models["v1"].md5 in ok.stdout
    v1 = onnx_models["v1"].md5
    (serving_root / ".dvc" / "cache" / "files" / "md5" / v1[:2] / v1[2:]).write_bytes(b"tampered")
    bad = cli(*check, "--registry-check", "skip")
    assert bad.exit_code == 1 and f"the manifest pins {v1}" in bad.stderr
