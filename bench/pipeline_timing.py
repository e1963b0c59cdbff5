"""Wall time of the reference pipeline (``dvc repro``) on the built-in sample, per stage.

Usage: python bench/pipeline_timing.py [--rows 20000] [--lightning] [--tasks binary,regression]
Goal (foundation issue): the default pipeline (20,000 rows, sklearn) in under 3 minutes
on 2 cores; with ``--tasks``, the project of each task's starter (``mlops init --task``)
in under 120 s per task (issue 15). Baselines measured in the same run: a no-op
``dvc repro`` (DVC's own overhead) and the data stages (ingest, validate, prepare).
The machine load is printed, since shared cores slow every figure down.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL_SECONDS = 180.0
TASK_GOAL_SECONDS = 120.0
DATA_STAGES = ("ingest", "validate", "prepare")


def timed(args: list[str], cwd: Path) -> tuple[float, str]:
    """Run a command in ``cwd``; return its wall time and its combined output."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVCLIVE_NO_ANALYTICS": "1"}
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout + proc.stderr


def stage_seconds(output: str) -> dict[str, float]:
    """Return the seconds each stage reported ('stage NAME finished in S s')."""
    found = re.findall(r"stage (\w+) finished in ([\d.]+) s", output)
    return {name: float(seconds) for name, seconds in found}


def report(
    title: str,
    total: float,
    output: str,
    baselines: tuple[float, float],
    *,
    goal: float = GOAL_SECONDS,
) -> None:
    """Print one pipeline run: per stage, total, and ratios to (no-op repro, data stages)."""
    noop, data = baselines
    stages = stage_seconds(output)
    print(f"\n{title}")
    for name, seconds in stages.items():
        print(f"  {name:<10} {seconds:7.1f} s")
    ratios = (
        f"{total / noop:.0f}x no-op repro, {total / data:.1f}x data stages, "
        f"{total / goal:.0%} of the {goal:.0f} s goal"
    )
    print(f"  {'total':<10} {total:7.1f} s  ({ratios})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--lightning", action="store_true", help="also time model.family=lightning")
    parser.add_argument(
        "--tasks", default="", help="comma-separated tasks: time each starter project instead"
    )
    args = parser.parse_args()
    if args.tasks:
        time_tasks(args.tasks.split(","), args.rows)
        return
    from mlops_gitops.project import init_project
    from mlops_gitops.roundtrip import modify_yaml

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "bench").path
        with modify_yaml(project / "params.yaml") as params:
            params["data"]["sample"]["rows"] = args.rows
        dvc = str(BIN / "dvc")
        total, output = timed([dvc, "repro"], project)
        noop, _ = timed([dvc, "repro"], project)
        data = sum(stage_seconds(output).get(name, 0.0) for name in DATA_STAGES)
        print(f"baselines: no-op dvc repro {noop:.1f} s; data stages {data:.1f} s")
        report(f"dvc repro, sklearn, {args.rows} rows", total, output, (noop, data))
        if args.lightning:
            subprocess.run(["git", "add", "-A"], cwd=project, check=True, capture_output=True)
            subprocess.run(["git", "commit", "-qm", "run"], cwd=project, check=True)
            exp = [dvc, "exp", "run", "-S", "model.family=lightning"]
            total, output = timed(exp, project)
            report(
                f"dvc exp run -S model.family=lightning, {args.rows} rows",
                total,
                output,
                (noop, data),
            )
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print(f"goal < {GOAL_SECONDS:.0f} s for the sklearn pipeline: see the total above")


def time_tasks(tasks: list[str], rows: int) -> None:
    """Time ``dvc repro`` of each task's starter project, against the same baselines."""
    from mlops_gitops.project import init_project
    from mlops_gitops.roundtrip import modify_yaml

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    dvc = str(BIN / "dvc")
    totals = {}
    for task in tasks:
        with tempfile.TemporaryDirectory() as tmp:
            project = init_project(Path(tmp) / "bench", task=task).path
            with modify_yaml(project / "params.yaml") as params:
                params["data"]["sample"]["rows"] = rows
            total, output = timed([dvc, "repro"], project)
            noop, _ = timed([dvc, "repro"], project)
            data = sum(stage_seconds(output).get(name, 0.0) for name in DATA_STAGES)
            title = f"dvc repro, task {task}, {rows} rows"
            report(title, total, output, (noop, data), goal=TASK_GOAL_SECONDS)
            totals[task] = total
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print("per task: " + ", ".join(f"{t} {s:.0f} s" for t, s in totals.items()))
    print(f"goal < {TASK_GOAL_SECONDS:.0f} s per task")


if __name__ == "__main__":
    main()
