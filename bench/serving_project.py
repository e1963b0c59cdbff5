"""The serving benchmark's project: a model in two registered versions, and the hot path.

Imported by ``serving_bench.py``: :func:`build_model` trains the benchmark
model, :func:`make_project` writes a project whose environments serve it
(``bench`` with request validation on, ``bench-unvalidated`` with it off),
registering both versions with their training data so that the server
resolves their input schema; :func:`hot_path_cost` times the inference
endpoint in process (no network), validated against unvalidated.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

N_FEATURES = 30
NAMES = [f"f{i:02d}" for i in range(N_FEATURES)]


# The model each task trains, and the class names it records in the model's metadata.
TASKS = ("binary", "multiclass", "regression")
MULTICLASS = ("c0", "c1", "c2")


def build_model(folder: Path, task: str = "binary") -> tuple[Path, Path, Any]:
    """Train the benchmark model of ``task``; write two versions (same graph) and its data."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, N_FEATURES)).astype(np.float32)
    signal = x[:, :5].sum(axis=1) + rng.normal(size=20_000)
    y = {
        "binary": (signal > 0).astype(int),
        "multiclass": np.digitize(signal, [-1.0, 1.0]),
        "regression": signal,
    }[task]
    import pandas as pd

    frame = pd.DataFrame(x, columns=NAMES)
    clf: Any = (
        HistGradientBoostingRegressor(random_state=0)
        if task == "regression"
        else HistGradientBoostingClassifier(random_state=0)
    )
    pipe = Pipeline([("prepare", ColumnTransformer([("num", "passthrough", NAMES)])), ("clf", clf)])
    pipe.fit(frame, y)
    onx = to_onnx(
        pipe,
        initial_types=[(n, FloatTensorType([None, 1])) for n in NAMES],
        options={} if task == "regression" else {id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    if task == "regression":  # the contract's output name (skl2onnx calls it 'variable')
        onx.graph.output[0].name = "prediction"
        for node in onx.graph.node:
            node.output[:] = ["prediction" if o == "variable" else o for o in node.output]
    recorded = {"task": task}
    if task == "multiclass":
        recorded["classes"] = json.dumps(list(MULTICLASS))
    paths = []
    for version in ("v1", "v2"):
        del onx.metadata_props[:]
        for key, value in {"version": version, **recorded}.items():
            meta = onx.metadata_props.add()
            meta.key, meta.value = key, value
        path = folder / f"model-{version}.onnx"
        path.write_bytes(onx.SerializeToString())
        paths.append(path)
    return paths[0], paths[1], frame


def md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes()).hexdigest()


ENVS = {"bench": "true", "bench-unvalidated": "false"}


def make_project(folder: Path, v1: Path, v2: Path, train: Any) -> Path:
    """Write a registered project whose 'bench' environment runs v1 with a 10% canary of v2.

    Both versions are registered with the training data as their reference, so
    the server resolves their input schema and validates every request
    ('bench-unvalidated' is the same with validation off).
    """
    root = folder / "project"
    (root / "envs").mkdir(parents=True)
    data = root / "data" / "prepared" / "train.parquet"
    data.parent.mkdir(parents=True)
    train.to_parquet(data, index=False)
    for path in (v1, v2, data):
        digest = md5(path)
        target = root / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (root / "envs" / "environments.yaml").write_text(
        "environments:\n" + "".join(f"  {env}:\n    feeds: []\n" for env in ENVS)
    )
    for env, enabled in ENVS.items():
        (root / "envs" / f"{env}.yaml").write_text(
            "models:\n  bench:\n    version: v1.0.0\n"
            f"    artifact: {{path: models/model.onnx, md5: {md5(v1)}}}\n"
            "    rollout:\n      strategy: canary\n      weight: 10\n"
            "      candidate:\n        version: v2.0.0\n"
            f"        artifact: {{path: models/model.onnx, md5: {md5(v2)}}}\n"
            "serving:\n  prediction_log:\n"
            f"    path: logs/predictions/{env}\n    max_rows_per_file: 100000\n"
            f"monitoring:\n  validation: {{enabled: {enabled}, reject: false}}\n"
        )
    register_versions(root, {"v1.0.0": v1, "v2.0.0": v2}, data)
    return root


def register_versions(root: Path, versions: dict[str, Path], data: Path) -> None:
    """Commit a dvc.lock per version (the model trained on ``data``) and register each."""
    from mlops_gitops.registry import register

    for key in ("AUTHOR", "COMMITTER"):
        os.environ.setdefault(f"GIT_{key}_NAME", "bench")
        os.environ.setdefault(f"GIT_{key}_EMAIL", "bench@localhost")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / ".gitignore").write_text("/data/\n/models/\n/logs/\n/.dvc/cache/\n/.mlops/\n")
    (root / "dvc.yaml").write_text(
        "stages:\n  export:\n    cmd: python -c pass\n"
        "    deps: [data/prepared/train.parquet]\n    outs: [models/model.onnx]\n"
        "artifacts:\n  bench:\n    path: models/model.onnx\n    type: model\n"
    )
    for version, model in versions.items():
        (root / "dvc.lock").write_text(
            "schema: '2.0'\nstages:\n  export:\n    cmd: python -c pass\n    deps:\n"
            f"    - path: data/prepared/train.parquet\n      hash: md5\n      md5: {md5(data)}\n"
            f"      size: {data.stat().st_size}\n    outs:\n    - path: models/model.onnx\n"
            f"      hash: md5\n      md5: {md5(model)}\n      size: {model.stat().st_size}\n"
        )
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", f"Train {version}"], cwd=root, check=True)
        register(root, "bench", version=version, check_remote=False)


def hot_path_cost(
    root: Path, body: bytes, *, blocks: int = 30, size: int = 300
) -> dict[str, float]:
    """Return the us per request of the 'bench' endpoint with and without validation.

    Both endpoints serve the same loaded models (one with the input checks
    attached), are called through ASGI in this process, and are timed in
    interleaved blocks; each figure is the best block (the least disturbed by
    other processes on a shared machine).
    """
    from mlops_gitops.serving import codec
    from mlops_gitops.serving.inference import InferenceEndpoint
    from mlops_gitops.serving.modelset import load_model_set
    from mlops_gitops.serving.plan import read_plan
    from mlops_gitops.serving.server_state import ServerState
    from mlops_gitops.serving.validation import add_input_checks

    plan = read_plan(root, "bench")
    bare = load_model_set(plan)
    sets = {"validated": add_input_checks(bare, plan), "unvalidated": bare}
    endpoints = {
        name: InferenceEndpoint(
            ServerState(plan=plan, load_plan=lambda: plan, models=models),
            "v2",
            codec.decode_v2,
            codec.encode_v2,
        )
        for name, models in sets.items()
    }
    loop = asyncio.new_event_loop()
    times: dict[str, list[float]] = {name: [] for name in endpoints}
    for _ in range(blocks):
        for name, endpoint in endpoints.items():
            times[name].append(loop.run_until_complete(_block(endpoint, body, size)))
    loop.close()
    return {name: min(values) for name, values in times.items()}


async def _block(endpoint: Any, body: bytes, size: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    started = time.perf_counter()
    for _ in range(size):
        scope = {"type": "http", "path_params": {"name": "bench"}, "headers": []}
        if await endpoint(scope, receive, send) != 200:
            raise SystemExit("the in-process endpoint refused the benchmark request")
    return (time.perf_counter() - started) / size * 1e6
