"""From ``git push`` to the report on the local forge, on the built-in sample.

Usage: python bench/forge_bench.py [--rows 20000]

Goal (GitOps loop issue): under 2 minutes on 2 cores from push to report, of
which the toolkit's own overhead (everything but DVC's stages) under 10 s.

Set-up (not timed): scaffold a project, run the pipeline on main, push data
and models to the DVC remote and main to a fresh local forge. Timed: push a
branch that changes one training parameter, then ``mlops runner --once``
(checkout, dvc pull, repro, push, commit back, gate, report, notes). The
baseline, measured in the same run on a copy of the same clone, is a plain
``dvc repro`` of the same change: what the change costs without the forge.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
GOAL_TOTAL, GOAL_OVERHEAD = 120.0, 10.0
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVCLIVE_NO_ANALYTICS": "1"}


def run(args: list[str], cwd: Path) -> str:
    """Run a command and return its standard output; exit with its output when it fails."""
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def set_up(root: Path, rows: int) -> tuple[Path, Path]:
    """Return (forge, clone): a trained main pushed to a new local forge."""
    from mlops_gitops.forge.local import init_forge
    from mlops_gitops.project import init_project

    project = init_project(root / "project", remote=root / "dvc-remote").path
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("rows: 20000", f"rows: {rows}"))
    run([str(BIN / "dvc"), "repro", "-q"], project)
    run([str(BIN / "dvc"), "push", "-q"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "Train main"], project)
    forge = init_forge(root / "forge.git").path
    run(["git", "remote", "add", "origin", str(forge)], project)
    run(["git", "push", "-q", "origin", "main"], project)
    shutil.rmtree(forge / "mlops-queue", ignore_errors=True)
    return forge, project


def change_param(clone: Path) -> None:
    """Change one training parameter on a new branch and commit it."""
    params = clone / "params.yaml"
    params.write_text(params.read_text().replace("learning_rate: 0.1", "learning_rate: 0.08"))
    run(["git", "checkout", "-q", "-b", "bench"], clone)
    run(["git", "commit", "-q", "-am", "Lower the learning rate"], clone)


def baseline(clone: Path, root: Path) -> float:
    """Seconds of a plain ``dvc repro`` of the change, in a copy of the clone."""
    copy = root / "baseline"
    shutil.copytree(clone, copy, symlinks=True)
    start = time.perf_counter()
    run([str(BIN / "dvc"), "repro", "-q"], copy)
    return time.perf_counter() - start


def push_to_report(forge: Path, clone: Path) -> tuple[float, dict[str, object]]:
    """Seconds from ``git push`` to the report note, and the job's result."""
    start = time.perf_counter()
    run(["git", "push", "-q", "origin", "bench"], clone)
    out = run([str(BIN / "mlops"), "runner", "--once", "--forge-path", str(forge), "--json"], clone)
    total = time.perf_counter() - start
    [job] = json.loads(out)
    if job["state"] != "done":
        sys.exit(f"the job failed: {job['result']}")
    return total, job["result"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp:
        root = Path(tmp)
        print(f"set-up: scaffold, train main on {args.rows} rows, push to a local forge ...")
        forge, clone = set_up(root, args.rows)
        change_param(clone)
        plain = baseline(clone, root)
        total, result = push_to_report(forge, clone)
    stages: dict[str, dict[str, float]] = result["stages"]  # type: ignore[assignment]
    seconds: dict[str, float] = result["seconds"]  # type: ignore[assignment]
    in_stages = sum(s["seconds"] for s in stages.values())
    overhead = total - in_stages
    dvc_commands = seconds.get("pull", 0.0) + seconds.get("repro", 0.0) + seconds.get("push", 0.0)
    toolkit = total - dvc_commands
    print(f"\nmachine load (1 min): {load:.1f} on {os.cpu_count()} cores")
    print("stages (runner):")
    for name, stage in stages.items():
        print(f"  {name:<10} {stage['status']:<9} {stage['seconds']:7.1f} s")
    print("runner phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    print(f"gate: {result['decision']} ({result['gate']})")
    print(f"baseline: plain dvc repro of the change {plain:7.1f} s")
    print(
        f"push -> report                         {total:7.1f} s  "
        f"({total / plain:.2f}x the baseline, {total / GOAL_TOTAL:.0%} of the 2 min goal)"
    )
    print(f"  of which DVC's stages                {in_stages:7.1f} s")
    print(f"  everything but DVC's stages          {overhead:7.1f} s")
    print(f"    DVC's own (pull, push, repro's non-stage time) {dvc_commands - in_stages:5.1f} s")
    print(
        f"    the toolkit's own (hook, runner, checkout, commit, gate, report) {toolkit:5.1f} s"
        f"  ({toolkit / GOAL_OVERHEAD:.0%} of the 10 s goal)"
    )


if __name__ == "__main__":
    main()
