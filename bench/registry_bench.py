"""Benchmark the registry reads against GTO on a repository of 10,000 versions.

Builds (with one ``git fast-import``) a repository with MODELS models and
VERSIONS registered versions in total, one training commit per version,
and promotions to dev, staging and prod merged as pull requests. Then times
whole processes, median of RUNS: ``mlops registry list``, ``mlops status``,
``mlops registry history MODEL``, and on the same repository ``gto show``
and ``gto history MODEL`` (GTO from its own virtual environment: pass
``--gto PATH`` or set ``GTO``). Prints the figures and the ratios.

    python bench/registry_bench.py --gto /tmp/gto-venv/bin/gto
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_gitops.project import template_root
from mlops_gitops.registry.versions import METADATA_SCHEMA, format_message

START = 1_767_225_600  # 2026-01-01T00:00:00Z
AUTHOR = "Bench Builder <bench@example.com>"
WIDTHS = (9, 8, 9, 8, 8, 7)
PARAMS = {f"param_{i}": i / 10 for i in range(20)}


def md5_of(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def data_block(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


class Stream:
    """Writes a fast-import stream: commits on main, promotion branches, tags."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0
        self.clock = START
        self.head: int | None = None

    def commit(
        self,
        ref: str,
        message: str,
        files: dict[str, str],
        *,
        parent: int | None,
        merge: int | None = None,
    ) -> int:
        self.mark += 1
        self.clock += 60
        lines = [f"commit {ref}", f"mark :{self.mark}", f"committer {AUTHOR} {self.clock} +0000"]
        self.parts.append(("\n".join(lines) + "\n").encode() + data_block(message))
        if parent is not None:
            self.parts.append(f"from :{parent}\n".encode())
        if merge is not None:
            self.parts.append(f"merge :{merge}\n".encode())
        for path, content in files.items():
            self.parts.append(f"M 100644 inline {path}\n".encode() + data_block(content))
        self.parts.append(b"\n")
        return self.mark

    def tag(self, name: str, target: int, message: str) -> None:
        head = f"tag {name}\nfrom :{target}\ntagger {AUTHOR} {self.clock} +0000\n"
        self.parts.append(head.encode() + data_block(message))


def render_manifest(starter: str, models: dict[str, tuple[str, str]]) -> str:
    if not models:
        return starter
    blocks = [
        f"  {name}:\n    version: {version}\n    artifact:\n      path: models/{name}.onnx\n"
        f"      md5: {md5}\n    rollout:\n      strategy: direct\n"
        for name, (version, md5) in sorted(models.items())
    ]
    return starter.replace("models: {}\n", "models:\n" + "\n".join(blocks))


def build(repo: Path, n_models: int, n_versions: int) -> str:
    """Create the benchmark repository; return one model name for the history timings."""
    envs = {p.name: p.read_text() for p in (template_root() / "envs").glob("*.yaml")}
    names = [f"model-{i:02d}" for i in range(n_models)]
    dvc_yaml = "artifacts:\n" + "".join(
        f"  {n}:\n    path: models/{n}.onnx\n    type: model\n" for n in names
    )
    stream = Stream()
    files = {f"envs/{name}": text for name, text in envs.items()} | {"dvc.yaml": dvc_yaml}
    stream.head = stream.commit("refs/heads/main", "Initial project", files, parent=None)
    running: dict[str, dict[str, tuple[str, str]]] = {"dev": {}, "staging": {}, "prod": {}}
    for index in range(n_versions // n_models):
        for name in names:
            _train_and_register(stream, name, index)
        for env, every, source in (
            ("dev", 4, "registry"),
            ("staging", 8, "dev"),
            ("prod", 16, "staging"),
        ):
            if index % every == every - 1:
                for name in names:
                    _promote(stream, running, envs, (name, f"v1.{index}.0", env, source))
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream.parts), check=True
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True)  # as after a clone or gc
    return names[0]


def _train_and_register(stream: Stream, name: str, index: int) -> None:
    version = f"v1.{index}.0"
    md5 = md5_of(f"{name}{version}")
    lock = (
        "schema: '2.0'\nstages:\n  train:\n    outs:\n"
        f"    - path: models/{name}.onnx\n      hash: md5\n      md5: {md5}\n"
    )
    stream.head = stream.commit(
        "refs/heads/main", f"Train {name} {version}", {"dvc.lock": lock}, parent=stream.head
    )
    metadata = {
        "schema": METADATA_SCHEMA,
        "model": name,
        "version": version,
        "artifact": {"path": f"models/{name}.onnx", "md5": md5, "size": 1000, "stage": "train"},
        "data": {
            "data/prepared/train.parquet": md5_of(f"train{index}"),
            "data/prepared/test.parquet": md5_of(f"test{index}"),
        },
        "params": {"params.yaml": {"model": PARAMS}},
        "metrics": {"metrics/evaluate.json": {"roc_auc": 0.8 + index / 10000, "f1": 0.7}},
    }
    stream.tag(
        f"{name}@{version}", stream.head, format_message(f"Register {name} {version}", metadata)
    )


def _promote(
    stream: Stream,
    running: dict[str, dict[str, tuple[str, str]]],
    envs: dict[str, str],
    change: tuple[str, str, str, str],
) -> None:
    name, version, env, source = change
    md5 = md5_of(f"{name}{version}")
    running[env][name] = (version, md5)
    text = render_manifest(envs[f"{env}.yaml"], running[env])
    message = (
        f"Promote {name} {version} from {source} to {env}\n\n"
        f"Mlops-Action: promote\nMlops-Model: {name}\nMlops-Version: {version}\n"
        f"Mlops-From: {source}\nMlops-To: {env}\nMlops-Artifact-Md5: {md5}\n"
    )
    branch = stream.commit(
        f"refs/heads/promote/{env}/{name}-{version}",
        message,
        {f"envs/{env}.yaml": text},
        parent=stream.head,
    )
    merged = {f"envs/{env}.yaml": text}  # a fast-import merge takes its tree from the first parent
    stream.head = stream.commit(
        "refs/heads/main",
        f"Merge promote/{env}/{name}-{version}",
        merged,
        parent=stream.head,
        merge=branch,
    )


def time_command(command: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Return the median wall time and the median CPU time (user + system, the
    process and its git children) of ``command`` run as a whole process."""
    import resource

    walls, cpus = [], []
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cwd.parent / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # time an installed package: bytecode cached
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)  # warm-up
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(walls), statistics.median(cpus)


def _row(name: str, row: dict[str, float | None]) -> str:
    ours, ours_cpu = row["mlops_s"] or 0.0, row["mlops_cpu_s"] or 0.0
    gto, gto_cpu = row["gto_s"], row["gto_cpu_s"]
    text = f"{name:<30}{ours:>9.3f}{ours_cpu:>8.3f}"
    if gto is None or gto_cpu is None:
        return text + f"{'-':>9}{'-':>8}{'-':>8}{'-':>7}"
    return text + f"{gto:>9.2f}{gto_cpu:>8.2f}{gto / ours:>7.0f}x{gto_cpu / ours_cpu:>6.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--gto", default=os.environ.get("GTO"), help="the gto executable (or GTO=...)"
    )
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    mlops = str(Path(sys.executable).with_name("mlops"))
    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    repo = args.keep or workdir / "repo"
    started = time.perf_counter()
    model = build(repo, args.models, args.versions)
    tags = len(
        subprocess.run(
            ["git", "tag"], cwd=repo, capture_output=True, check=True
        ).stdout.splitlines()
    )
    commits = subprocess.run(
        ["git", "rev-list", "--count", "main"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"built {repo}: {tags} tags, {commits} commits in {time.perf_counter() - started:.1f}s")
    ours = {
        "registry list": [mlops, "registry", "list", "--json"],
        "status": [mlops, "status", "--json"],
        f"registry history {model}": [mlops, "registry", "history", model, "--json"],
    }
    theirs = {
        "registry list": ["show", "--json"],
        f"registry history {model}": ["history", model, "--json"],
    }
    results: dict[str, dict[str, float | None]] = {}
    for name, command in ours.items():
        wall, cpu = time_command(command, repo, args.runs)
        results[name] = {"mlops_s": wall, "mlops_cpu_s": cpu, "gto_s": None, "gto_cpu_s": None}
        if args.gto and name in theirs:
            gto_wall, gto_cpu = time_command([args.gto, *theirs[name]], repo, args.runs)
            results[name].update(gto_s=gto_wall, gto_cpu_s=gto_cpu)
    load = os.getloadavg()[0]
    print(f"median of {args.runs} runs; load average {load:.1f} on {os.cpu_count()} CPUs")
    head = ("mlops s", "(cpu)", "gto s", "(cpu)", "wall x", "cpu x")
    print(f"{'command':<30}" + "".join(f"{h:>{w}}" for h, w in zip(head, WIDTHS, strict=True)))
    for name, row in results.items():
        print(_row(name, row))
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "registry_bench.json").write_text(
        json.dumps({"tags": tags, "commits": commits, "results": results}, indent=2)
    )
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
