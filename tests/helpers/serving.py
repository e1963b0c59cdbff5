"""Fixtures for serving: tiny ONNX models of the training contract and real servers.

Models follow the export contract: one input per raw feature column
(numeric float, categorical string, shape [None, 1]); outputs ``label`` and
``probabilities``. Servers are real uvicorn servers on 127.0.0.1, started in
a thread on a socket bound to a free port.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.helpers import gen_tree, run

FEATURES = ("age", "income", "region")


@dataclass(frozen=True)
class BuiltModel:
    """An ONNX file with its md5."""

    path: Path
    md5: str


def _build(path: Path, *, seed: int, iterations: int) -> BuiltModel:
    import pandas as pd
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    rng = np.random.default_rng(seed)
    n = 200
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n).astype("float32"),
            "income": rng.normal(50, 10, n).astype("float32"),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    target = (frame["age"] + rng.normal(0, 5, n) > 45).astype(int)
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    prepare = ColumnTransformer(
        [("num", "passthrough", ["age", "income"]), ("cat", encoder, ["region"])]
    )
    clf = HistGradientBoostingClassifier(max_iter=iterations, random_state=seed)
    pipe = Pipeline([("prepare", prepare), ("clf", clf)]).fit(frame, target)
    inputs = [
        ("age", FloatTensorType([None, 1])),
        ("income", FloatTensorType([None, 1])),
        ("region", StringTensorType([None, 1])),
    ]
    with warnings.catch_warnings():  # skl2onnx sets bool attributes; onnx warns (third party)
        warnings.simplefilter("ignore", DeprecationWarning)
        onx = to_onnx(
            pipe,
            initial_types=inputs,
            options={id(clf): {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    meta = onx.metadata_props.add()
    meta.key, meta.value = "features", '["age", "income", "region"]'
    data = onx.SerializeToString()
    path.write_bytes(data)
    return BuiltModel(path, hashlib.md5(data).hexdigest())


@pytest.fixture(scope="session")
def onnx_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltModel]:
    """Two versions of a credit model and a model with another input contract."""
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "v1": _build(folder / "v1.onnx", seed=1, iterations=5),
        "v2": _build(folder / "v2.onnx", seed=2, iterations=8),
    }


def cache_model(root: Path, model: BuiltModel) -> None:
    """Put a model into ROOT's DVC cache at its content address (as 'dvc add' would)."""
    target = root / ".dvc" / "cache" / "files" / "md5" / model.md5[:2] / model.md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model.path, target)


def manifest_text(
    models: dict[str, BuiltModel],
    *,
    rollout: str = "direct",
    weight: int = 10,
    log_path: str = "logs/predictions/dev",
    candidate: str = "v2",
) -> str:
    """Return a dev manifest serving 'credit' at v1.0.0 with the given rollout."""
    v1 = models["v1"]
    other = models[candidate]
    lines = [
        "models:",
        "  credit:",
        "    version: v1.0.0",
        f"    artifact: {{path: models/model.onnx, md5: {v1.md5}}}",
    ]
    if rollout == "canary":
        lines += [
            "    rollout:",
            "      strategy: canary",
            f"      weight: {weight}",
            "      candidate:",
            "        version: v2.0.0",
            f"        artifact: {{path: models/model.onnx, md5: {other.md5}}}",
        ]
    elif rollout == "ab":
        lines += [
            "    rollout:",
            "      strategy: ab",
            "      variants:",
            f"        - {{name: b, version: v2.0.0, weight: {weight},"
            f" artifact: {{path: models/model.onnx, md5: {other.md5}}}}}",
        ]
    lines += [
        "serving:",
        "  replicas: 1",
        "  prediction_log:",
        f"    path: {log_path}",
        "    max_rows_per_file: 10000",
    ]
    return "\n".join(lines) + "\n"


ENVIRONMENTS = "environments:\n  dev:\n    feeds: [prod]\n  prod:\n    feeds: []\n"


@pytest.fixture
def serving_root(tmp_path: Path, onnx_models: dict[str, BuiltModel]) -> Path:
    """A project folder with both models in its DVC cache and a dev manifest (direct v1)."""
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    for model in onnx_models.values():
        cache_model(root, model)
    (root / "envs" / "environments.yaml").write_text(ENVIRONMENTS)
    (root / "envs" / "dev.yaml").write_text(manifest_text(onnx_models))
    (root / "envs" / "prod.yaml").write_text("models: {}\n")
    return root


@dataclass
class LiveServer:
    """A running server: its base URL, app state and a way to stop it."""

    url: str
    state: object
    app: object
    stop: Callable[[], None]

    def client(self, token: str | None = "predict-token") -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def wait_ready(self, deadline: float = 30.0) -> None:
        wait_until(lambda: httpx.get(f"{self.url}/v2/health/ready").status_code == 200, deadline)


def wait_until(condition: Callable[[], bool], deadline: float = 30.0) -> None:
    """Poll ``condition`` until it holds, failing the test after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)  # polling interval with a deadline, not a timed wait
    pytest.fail(f"condition not met within {deadline} s")


TOKENS = {"MLOPS_PREDICT_TOKENS": "predict-token", "MLOPS_ADMIN_TOKENS": "admin-token"}


@pytest.fixture
def start_server() -> Iterator[Callable[..., LiveServer]]:
    """``start_server(root, env="dev", load_plan=None, **state_options)``: a real uvicorn server."""
    import uvicorn

    from mlops_gitops.serving.app import create_app
    from mlops_gitops.serving.auth import read_tokens
    from mlops_gitops.serving.plan import read_plan
    from mlops_gitops.serving.server_state import ServerState

    running: list[Callable[[], None]] = []

    def _start(
        root: Path, env: str = "dev", *, load_plan=None, watch_interval=None, **options
    ) -> LiveServer:
        plan = read_plan(root, env)
        state = ServerState(
            plan=plan,
            load_plan=load_plan or (lambda: read_plan(root, env)),
            tokens=read_tokens(TOKENS),
            **options,
        )
        app = create_app(state, watch_interval=watch_interval)
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: server.started, 30)

        def stop() -> None:
            server.should_exit = True
            thread.join(10)
            sock.close()

        running.append(stop)
        return LiveServer(url, state, app, stop)

    yield _start
    for stop in running:
        stop()


def v2_body(rows: list[dict[str, object]]) -> dict[str, object]:
    """Return a v2 infer body for records with the three features."""
    return {
        "inputs": [
            {
                "name": "age",
                "datatype": "FP32",
                "shape": [len(rows), 1],
                "data": [r["age"] for r in rows],
            },
            {
                "name": "income",
                "datatype": "FP32",
                "shape": [len(rows), 1],
                "data": [r["income"] for r in rows],
            },
            {
                "name": "region",
                "datatype": "BYTES",
                "shape": [len(rows), 1],
                "data": [r["region"] for r in rows],
            },
        ]
    }


ROW = {"age": 52.0, "income": 48.5, "region": "north"}


@pytest.fixture
def registered_root(dvc_repo: Path, onnx_models: dict[str, BuiltModel]) -> Path:
    """A git + DVC project where 'credit' v1.0.0 is registered (tag) and pinned in dev.

    dvc.yaml declares the artifact; dvc.lock records the model and its test
    set; both are in the DVC cache and pushed to the local DVC remote.
    """
    import pandas as pd

    from mlops_gitops.registry import register

    root = dvc_repo
    rng = np.random.default_rng(5)
    test = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 80),
            "income": rng.normal(50, 10, 80),
            "region": rng.choice(["north", "south", "east"], 80),
        }
    )
    test["default"] = (test["age"] > 45).astype(int)
    (root / "data" / "prepared").mkdir(parents=True)
    test_path = root / "data" / "prepared" / "test.parquet"
    test.to_parquet(test_path)
    test_md5 = hashlib.md5(test_path.read_bytes()).hexdigest()
    cache_model(root, BuiltModel(test_path, test_md5))
    v1 = onnx_models["v1"]
    (root / "models").mkdir()
    shutil.copyfile(v1.path, root / "models" / "model.onnx")
    cache_model(root, v1)
    size, test_size = v1.path.stat().st_size, test_path.stat().st_size
    gen_tree(
        root,
        {
            ".gitignore": "/models/\n/data/\n",
            "params.yaml": "data:\n  label: default\n",
            "dvc.yaml": (
                "stages:\n  export:\n    cmd: python -c pass\n    deps:\n"
                "      - data/prepared/test.parquet\n    params:\n      - data.label\n"
                "    outs:\n      - models/model.onnx\nartifacts:\n  credit:\n"
                "    path: models/model.onnx\n    type: model\n"
            ),
            "dvc.lock": (
                "schema: '2.0'\nstages:\n  export:\n    cmd: python -c pass\n    deps:\n"
                f"    - path: data/prepared/test.parquet\n      hash: md5\n      md5: {test_md5}\n"
                f"      size: {test_size}\n    params:\n      params.yaml:\n"
                "        data.label: default\n    outs:\n    - path: models/model.onnx\n"
                f"      hash: md5\n      md5: {v1.md5}\n      size: {size}\n"
            ),
            "envs/environments.yaml": ENVIRONMENTS,
            "envs/dev.yaml": manifest_text(onnx_models),
            "envs/prod.yaml": "models: {}\n",
        },
        commit="Pipeline outputs and manifests",
    )
    run(["dvc", "push", "-q"], root)
    register(root, "credit", version="v1.0.0", check_remote=False)
    return root


@pytest.fixture
def registered_pair(registered_root: Path, onnx_models: dict[str, BuiltModel]) -> Path:
    """``registered_root`` plus 'credit' v2.0.0 registered on a later commit (model v2).

    Both models are in the DVC cache, so a manifest may pin either version
    (the canary and A/B manifests of :func:`manifest_text`).
    """
    from mlops_gitops.registry import register

    root = registered_root
    v1, v2 = onnx_models["v1"], onnx_models["v2"]
    shutil.copyfile(v2.path, root / "models" / "model.onnx")
    cache_model(root, v2)
    lock = root / "dvc.lock"
    text = lock.read_text().replace(v1.md5, v2.md5)
    lock.write_text(
        text.replace(f"size: {v1.path.stat().st_size}", f"size: {v2.path.stat().st_size}")
    )
    run(["git", "commit", "-q", "-am", "Retrain"], root)
    run(["dvc", "push", "-q"], root)
    register(root, "credit", version="v2.0.0", check_remote=False)
    return root
