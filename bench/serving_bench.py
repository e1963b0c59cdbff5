"""Serving latency and throughput against baselines measured in the same run.

Usage: python bench/serving_bench.py [--seconds 5] [--rounds 3]
       [--mlflow-python /tmp/mlflow-venv/bin/python]
       [--tasks binary,multiclass,regression,clustering,anomaly]

Every server is one process on this machine, serving the same ONNX model (a
HistGradientBoosting classifier on 30 numeric features, one ONNX input per
feature, trained and exported by the platform's own prepare, train and export
functions; ONNX Runtime with one intra-op thread), started and measured one
after the other with ``wrk`` (Debian package ``wrk``):

* ``floor``: a bare ASGI callable + orjson + ONNX Runtime (no framework);
* ``fastapi``: FastAPI with a pydantic v2 request model + ONNX Runtime;
* ``mlops``: ``mlops serve`` with bearer auth, canary routing (90/10 between
  two versions), real-time validation against the training schema (both
  versions registered; their schema resolved from the registered training
  data), Prometheus metrics, prediction logging and JSON access logs on;
* ``mlops-quiet``: the same with the JSON access log off (``--no-access-log``);
* ``mlops-unvalidated``: ``mlops`` with ``monitoring.validation.enabled: false``
  (what the validation costs);
* ``mlflow``: ``mlflow models serve`` of the same ONNX model (only when
  ``--mlflow-python`` names an interpreter with MLflow installed).

All servers run at once (idle ones cost nothing) and are measured back to
back in each of ``--rounds`` rounds, so a baseline and its comparison see
the same machine load; ratios are taken within a round, then the median.
Single-row p50 comes from ``wrk -c1`` (one connection, sequential requests);
throughput from ``wrk -c8``. Goals (serving issue): mlops p50 <= 1.5x floor,
mlops throughput >= 50% of floor (with validation on), and >= 50x MLflow's
throughput. The last line times the inference endpoint in this process, with
and without validation (no network, best of interleaved blocks): the cost
of validation itself, which a shared machine's noise hides in ``wrk`` runs.
``--tasks`` adds, for each other task named (``multiclass``: three classes,
``regression``, ``clustering``: k-means, ``anomaly``: isolation forest), a
model of that task on the same features with its own ``floor-<task>``
and ``mlops-<task>`` servers measured in the same rounds;
the last lines give each task's single-row p50 against its own floor.
The project (both versions registered) is built by ``serving_project.py``,
the baseline servers are in ``serving_baselines.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from serving_baselines import fastapi_app, floor_app
from serving_project import N_FEATURES, NAMES, TASKS, build_model, hot_path_cost, make_project

TOKEN = "bench-predict-token"


# --- the servers, run in a child process: python serving_bench.py --run KIND ---


def run_child(kind: str, port: int, target: str) -> None:
    import uvicorn

    if kind.startswith("mlops"):
        from mlops_gitops.serving.server import ServeOptions, serve

        os.environ["MLOPS_PREDICT_TOKENS"] = TOKEN
        quiet = kind == "mlops-quiet"
        env = "bench-unvalidated" if kind == "mlops-unvalidated" else "bench"
        serve(target, env, ServeOptions(port=port, access_log=not quiet))
        return
    app = floor_app(target) if kind.startswith("floor") else fastapi_app(target)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- measuring ---


@dataclass(frozen=True)
class Case:
    """One server to measure: how to start it and what to send."""

    kind: str
    cmd: list[str]
    url: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(case: Case, log: Path) -> Iterator[None]:
    """Start a server and wait until it answers the benchmark request with 200."""
    with log.open("wb") as out:
        env = {**os.environ, **case.env}
        proc = subprocess.Popen(case.cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 120
            while not _answers(case):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{case.kind} did not start; see {log}")
                time.sleep(0.1)
            yield
        finally:
            proc.terminate()
            proc.wait(30)


def _answers(case: Case) -> bool:
    headers = {"content-type": "application/json", **case.headers}
    try:
        return (
            httpx.post(case.url, content=case.body, headers=headers, timeout=2).status_code == 200
        )
    except httpx.HTTPError:
        return False


def wrk(case: Case, *, connections: int, seconds: int, folder: Path) -> tuple[float, float]:
    """Return (p50 ms, requests/s) of a POST load with wrk (after a 2 s warm-up)."""
    script = folder / "post.lua"
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(case.body)}",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in case.headers.items()]
    script.write_text("\n".join(lines) + "\n")
    base = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", "-s", str(script)]
    subprocess.run([*base, "-d2s", case.url], capture_output=True, check=True)
    out = subprocess.run(
        [*base, f"-d{seconds}s", "--latency", case.url], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"{case.kind} answered errors under load:\n{out}")
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if p50 is None or rps is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return float(p50.group(1)) * scale, float(rps.group(1))


def v2_body() -> str:
    rng = np.random.default_rng(1)
    values = rng.normal(size=N_FEATURES)
    inputs = [
        {"name": n, "datatype": "FP32", "shape": [1, 1], "data": [round(float(v), 4)]}
        for n, v in zip(NAMES, values, strict=True)
    ]
    return json.dumps({"inputs": inputs})


def mlflow_body() -> str:
    rng = np.random.default_rng(1)
    values = rng.normal(size=N_FEATURES)
    return json.dumps(
        {"inputs": {n: [[round(float(v), 4)]] for n, v in zip(NAMES, values, strict=True)}}
    )


def save_mlflow_model(python: str, model: Path, dest: Path) -> None:
    code = (
        "import onnx, mlflow.onnx, sys; mlflow.onnx.save_model(onnx.load(sys.argv[1]), sys.argv[2])"
    )
    subprocess.run([python, "-c", code, str(model), str(dest)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mlflow-python", default=None)
    parser.add_argument("--only", default=None, help="comma-separated servers to measure")
    parser.add_argument("--tasks", default="binary", help=f"comma-separated: {','.join(TASKS)}")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_child(args.run, args.port, args.target)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed; apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        measure(Path(tmp), args)


def measure(folder: Path, args: argparse.Namespace) -> None:
    v1, v2, train = build_model(folder)
    root = make_project(folder, v1, v2, train)
    in_process = hot_path_cost(root, v2_body().encode())
    cases = []
    for kind in ("floor", "fastapi", "mlops", "mlops-quiet", "mlops-unvalidated"):
        port = free_port()
        mine = kind.startswith("mlops")
        target = str(root) if mine else str(v1)
        headers = {"Authorization": f"Bearer {TOKEN}"} if mine else {}
        cmd = [sys.executable, __file__, "--run", kind, "--port", str(port), "--target", target]
        url = f"http://127.0.0.1:{port}/v2/models/bench/infer"
        cases.append(Case(kind, cmd, url, v2_body(), headers))
    if args.mlflow_python:
        port = free_port()
        model_dir = folder / "mlflow-model"
        save_mlflow_model(args.mlflow_python, v1, model_dir)
        mlflow = str(Path(args.mlflow_python).with_name("mlflow"))
        cmd = [
            mlflow,
            "models",
            "serve",
            "-m",
            str(model_dir),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "--workers",
            "1",
        ]
        # mlflow starts 'uvicorn' from PATH: put its own environment's bin first
        path = f"{Path(args.mlflow_python).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        url = f"http://127.0.0.1:{port}/invocations"
        cases.append(Case("mlflow", cmd, url, mlflow_body(), env={"PATH": path}))
    if args.only:
        keep = {"floor", *args.only.split(",")}
        cases = [c for c in cases if c.kind in keep]
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        known = ", ".join(TASKS)
        raise SystemExit(f"--tasks: unknown task(s) {', '.join(unknown)}; known: {known}")
    for task in tasks:
        if task != "binary":
            cases += task_cases(folder / task, task)
    with contextlib.ExitStack() as stack:
        for case in cases:
            stack.enter_context(running(case, folder / f"{case.kind}.log"))
        for case in cases:
            if case.kind.startswith("mlops"):
                print(f"{case.kind}: validation {describe_validation(case)}", flush=True)
        rounds = [measure_round(cases, args.seconds, folder) for _ in range(args.rounds)]
    report(rounds, root)
    report_tasks(rounds, tasks)
    floor = statistics.median(r["floor"][0] for r in rounds) * 1000
    cost = in_process["validated"] - in_process["unvalidated"]
    print(
        f"hot path in process (ASGI call, no network, best of 30 blocks of 300 requests):"
        f" {in_process['validated']:.1f} us per request"
        f" validated, {in_process['unvalidated']:.1f} us unvalidated: validation adds"
        f" {cost:.1f} us ({cost / floor:.1%} of the floor's p50)"
    )


def task_cases(folder: Path, task: str) -> list[Case]:
    """Return the floor and mlops servers of a model of ``task`` (its own project)."""
    folder.mkdir()
    v1, v2, train = build_model(folder, task)
    root = make_project(folder, v1, v2, train)
    cases = []
    for kind, target in ((f"floor-{task}", str(v1)), (f"mlops-{task}", str(root))):
        port = free_port()
        headers = {"Authorization": f"Bearer {TOKEN}"} if kind.startswith("mlops") else {}
        cmd = [sys.executable, __file__, "--run", kind, "--port", str(port), "--target", target]
        url = f"http://127.0.0.1:{port}/v2/models/bench/infer"
        cases.append(Case(kind, cmd, url, v2_body(), headers))
    return cases


def report_tasks(rounds: list[dict[str, tuple[float, float]]], tasks: list[str]) -> None:
    """Print each task's mlops single-row p50 against the floor of the same model and round."""
    print()
    for task in tasks:
        mine, floor = ("mlops", "floor") if task == "binary" else (f"mlops-{task}", f"floor-{task}")
        if mine not in rounds[0] or floor not in rounds[0]:
            continue
        p50 = statistics.median(r[mine][0] for r in rounds)
        base = statistics.median(r[floor][0] for r in rounds)
        ratio = statistics.median(r[mine][0] / r[floor][0] for r in rounds)
        print(f"task {task}: mlops p50 {p50:.3f} ms, floor p50 {base:.3f} ms -> {ratio:.2f}x floor")


def describe_validation(case: Case) -> str:
    """Return what the server says about its request validation (readiness details)."""
    ready = httpx.get(case.url.split("/v2/")[0] + "/v2/health/ready", timeout=5).json()
    validation = ready["validation"]
    if not validation["enabled"]:
        return "off"
    versions = validation["versions"]
    if not all(v["validated"] for v in versions.values()):
        raise SystemExit(f"{case.kind}: a version is not validated: {versions}")
    mode = "reject" if validation["reject"] else "count"
    return f"on ({mode}) for {', '.join(sorted(versions))}"


def measure_round(cases: list[Case], seconds: int, folder: Path) -> dict[str, tuple[float, float]]:
    """Measure every server once, back to back, so they see the same machine load."""
    results = {}
    for case in cases:
        p50, _ = wrk(case, connections=1, seconds=seconds, folder=folder)
        _, rps = wrk(case, connections=8, seconds=seconds, folder=folder)
        results[case.kind] = (p50, rps)
        print(f"{case.kind:18s} p50 {p50:7.3f} ms  {rps:9.0f} req/s", flush=True)
    return results


def report(rounds: list[dict[str, tuple[float, float]]], root: Path) -> None:
    """Print medians over rounds, and ratios taken within each round (then their median)."""
    kinds = list(rounds[0])
    p50 = {k: statistics.median(r[k][0] for r in rounds) for k in kinds}
    rps = {k: statistics.median(r[k][1] for r in rounds) for k in kinds}
    p50_ratio = {k: statistics.median(r[k][0] / r["floor"][0] for r in rounds) for k in kinds}
    rps_ratio = {k: statistics.median(r[k][1] / r["floor"][1] for r in rounds) for k in kinds}
    print(f"\nmedians of {len(rounds)} round(s); ratios are per round against that round's floor")
    print("| server | single-row p50 (ms) | req/s, 8 connections | p50 / floor | req/s / floor |")
    print("|---|---|---|---|---|")
    for k in kinds:
        print(f"| {k} | {p50[k]:.3f} | {rps[k]:,.0f} | {p50_ratio[k]:.2f}x | {rps_ratio[k]:.0%} |")
    if "mlops" in kinds:
        print()
        met = "met" if p50_ratio["mlops"] <= 1.5 else "NOT met"
        print(f"goal p50 <= 1.5x floor: {p50_ratio['mlops']:.2f}x -> {met}")
        met = "met" if rps_ratio["mlops"] >= 0.5 else "NOT met"
        print(f"goal throughput >= 50% of floor: {rps_ratio['mlops']:.0%} -> {met}")
        if "mlflow" in kinds:
            ratio = statistics.median(r["mlops"][1] / r["mlflow"][1] for r in rounds)
            met = "met" if ratio >= 50 else "NOT met"
            print(f"goal throughput >= 50x MLflow: {ratio:.0f}x -> {met}")
        else:
            print("MLflow: not measured (pass --mlflow-python)")
        if "mlops-unvalidated" in kinds:
            ratio = statistics.median(r["mlops"][0] / r["mlops-unvalidated"][0] for r in rounds)
            print(f"validation cost: mlops p50 / mlops-unvalidated p50 = {ratio:.2f}x")
        logged = sum(1 for _ in (root / "logs" / "predictions").rglob("part-*.parquet"))
        print(f"prediction-log part files written by mlops during the run: {logged}")


if __name__ == "__main__":
    main()
