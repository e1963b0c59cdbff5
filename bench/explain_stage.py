"""Speed of the explain stage on the default sample, against the evaluate stage of the same run.

Usage: python bench/explain_stage.py [--rows 20000] [--family sklearn|lightning]
Goal (explanations issue): the explain stage on the default 20,000-row
sample finishes in under 2 minutes on 2 cores.

A fresh scaffold is run up to ``export`` (untimed); then the explain stage
script and, as the baseline, the evaluate stage script run as DVC would run
them (one Python process each, ``python stages/NAME.py``), and the no-op
start-up of a stage process (importing the stage helper) is measured too.
The explain stage's own per-step timings come from its log.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 120.0


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Run ``cmd`` in ``cwd``; return its wall time and stderr (the stage log)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stderr


def scaffold(work: Path, rows: int, family: str) -> Path:
    from mlops_gitops.project import init_project
    from mlops_gitops.roundtrip import modify_yaml

    project = init_project(work / "project", remote=work / "remote").path
    with modify_yaml(project / "params.yaml") as params:
        params["data"]["sample"]["rows"] = rows
        params["model"]["family"] = family
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run(["dvc", "repro", "-q", "export"], cwd=project, env=env, check=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--family", default="sklearn")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        project = scaffold(Path(tmp), args.rows, args.family)
        startup, _ = timed([python, "-c", "import mlops_gitops.stage"], project)
        evaluate, _ = timed([python, "stages/evaluate.py"], project)
        explain, log = timed([python, "stages/explain.py"], project)
    print(f"rows {args.rows}, family {args.family}, {os.cpu_count()} cores")
    print(f"stage process start-up       {startup:7.1f} s")
    print(f"evaluate stage (baseline)    {evaluate:7.1f} s")
    print(f"explain stage                {explain:7.1f} s  ({explain / evaluate:.1f}x evaluate)")
    print(f"budget                       {BUDGET_S:7.1f} s  ({explain / BUDGET_S:.0%} used)")
    for line in log.splitlines():
        if "explain:" in line:
            print("   ", line.split("explain: ", 1)[1])


if __name__ == "__main__":
    main()
