"""Start-up time of the CLI, whole process, against baselines measured in the same run.

Usage: python bench/cli_startup.py [--runs 10]
Goal (foundation issue): `mlops --help` under 0.3 s, median of 10.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_seconds(cmd: list[str], runs: int) -> float:
    """Run ``cmd`` ``runs`` times (after one warm-up) and return the median wall time."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "mlops --help": [str(BIN / "mlops"), "--help"],
        "mlops --version": [str(BIN / "mlops"), "--version"],
        "dvc --version (baseline)": [str(BIN / "dvc"), "--version"],
    }
    results = {name: median_seconds(cmd, args.runs) for name, cmd in cases.items()}
    floor = results["python -c pass (floor)"]
    dvc = results["dvc --version (baseline)"]
    print(f"{'command':<28} {'median s':>9} {'x floor':>8} {'x dvc':>7}")
    for name, value in results.items():
        print(f"{name:<28} {value:9.3f} {value / floor:8.1f} {value / dvc:7.2f}")
    goal = results["mlops --help"] < 0.3
    print(f"goal mlops --help < 0.3 s: {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
