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
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

N_FEATURES = 30
NAMES = [f"f{i:02d}" for i in range(N_FEATURES)]


# The tasks a benchmark model can be trained for, and the class names of the multiclass one.
TASKS = ("binary", "multiclass", "regression", "clustering", "anomaly")
MULTICLASS = ("c0", "c1", "c2")
# The estimator of each task (the platform's default where the task has one).
ESTIMATORS = {"clustering": {"estimator": "kmeans"}, "anomaly": {"estimator": "isolation_forest"}}


def build_model(folder: Path, task: str = "binary") -> tuple[Path, Path, Any]:
    """Train the benchmark model of ``task``; write two versions (same graph) and its data.

    The model goes through the platform's own prepare, train and export (the
    graph, its outputs and metadata are the ones ``dvc repro`` writes), on 30
    numeric features of which five carry the signal.
    """
    import onnx
    import pandas as pd

    from mlops_gitops.data import prepare_dataset
    from mlops_gitops.training import export_model, train_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, N_FEATURES)).astype(np.float32)
    signal = x[:, :5].sum(axis=1) + rng.normal(size=20_000)
    frame = pd.DataFrame(x, columns=NAMES)
    label: str | None = None if task == "clustering" else "y"
    if label is not None:
        frame[label] = {
            "binary": (signal > 0).astype(int),
            "multiclass": np.asarray(MULTICLASS)[np.digitize(signal, [-1.0, 1.0])],
            "regression": signal,
            "anomaly": (np.abs(signal) > 2 * signal.std()).astype(int),
        }[task]
    frame.insert(0, "row_id", [f"R{i:05d}" for i in range(len(frame))])
    frame.to_parquet(folder / "raw.parquet", index=False)
    paths = prepare_dataset(
        raw=folder / "raw.parquet",
        prepared_dir=folder / "prepared",
        data={"label": label, "id_column": "row_id"},
        prepare={"split": {"seed": 5}},
        task=task,
    ).paths
    train_model(
        train=paths["train"],
        valid=paths["valid"],
        trained=folder / "trained",
        live_dir=folder / "dvclive",
        settings={
            "name": "bench",
            "family": "sklearn",
            "task": task,
            "sklearn": ESTIMATORS.get(task, {}),
        },
        label=label,
        id_column="row_id",
    )
    export_model(
        trained=folder / "trained",
        test=paths["test"],
        model=folder / "model.onnx",
        metrics=folder / "export.json",
        settings={"tolerance": 1e-3},
    )
    onx = onnx.load(folder / "model.onnx")
    versions = []
    for version in ("v1", "v2"):
        props = [p for p in onx.metadata_props if p.key != "version"]
        del onx.metadata_props[:]
        onx.metadata_props.extend(props)
        meta = onx.metadata_props.add()
        meta.key, meta.value = "version", version
        path = folder / f"model-{version}.onnx"
        path.write_bytes(onx.SerializeToString())
        versions.append(path)
    return versions[0], versions[1], pd.read_parquet(paths["train"])


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
