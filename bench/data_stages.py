"""Speed of the data stages (ingest, validate, prepare) against baselines of the same run.

Usage: python bench/data_stages.py [--rows 20000] [--runs 3]
Goal (foundation issue): stage 1 of the pipeline on the default 20,000-row
sample well inside the whole pipeline's 3-minute budget on 2 cores.

In-process, each library step is compared with a Parquet write + read of
the same frame (the I/O floor). End to end, `dvc repro prepare` in a fresh
scaffold is compared with a no-op `dvc repro` (DVC's own floor) and with
three `python -c "import ..."` of the stage modules (the start-up floor).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent


def best_of(runs: int, func: Callable[[], object]) -> float:
    """Return the median wall time of ``func`` over ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(rows: int, runs: int, work: Path) -> dict[str, float]:
    import pandas as pd

    from mlops_gitops import stage
    from mlops_gitops.data import generate_sample, ingest, prepare_dataset
    from mlops_gitops.project import template_root
    from mlops_gitops.quality import validate_dataset

    sections = stage.load_sections("data", "schema", "prepare", root=template_root())
    data = {**sections["data"], "sample": {"rows": rows, "seed": 42, "drift": 0.0}}
    raw, report = work / "raw.parquet", work / "validation.json"
    pii_report = work / "pii_validation.json"
    schema = sections["schema"]
    frame = generate_sample(rows, 42)

    def io_floor() -> None:
        frame.to_parquet(work / "floor.parquet", index=False)
        pd.read_parquet(work / "floor.parquet")

    return {
        "parquet write+read (I/O floor)": best_of(runs, io_floor),
        "ingest (generate + PII checks + PII drop + write)": best_of(
            runs, lambda: ingest(raw=raw, data=data, schema=schema, pii_report=pii_report)
        ),
        "validate (pandera + report)": best_of(
            runs,
            lambda: validate_dataset(
                raw=raw, validation_report=report, data=data, schema=schema, pii_report=pii_report
            ),
        ),
        "prepare (split + write)": best_of(
            runs,
            lambda: prepare_dataset(
                raw=raw,
                prepared_dir=work / "prepared",
                data=data,
                prepare=sections["prepare"],
                validation_report=report,
            ),
        ),
    }


def end_to_end(rows: int, work: Path) -> dict[str, float]:
    from mlops_gitops.project import init_project
    from mlops_gitops.roundtrip import modify_yaml

    root = init_project(work / "project", remote=work / "remote").path
    with modify_yaml(root / "params.yaml") as params:
        params["data"]["sample"]["rows"] = rows
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
    }

    def run(*cmd: str) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=True)
        return time.perf_counter() - start

    imports = "import mlops_gitops.data, mlops_gitops.quality, mlops_gitops.stage"
    return {
        "3 x python import of the stage modules (start-up floor)": sum(
            run(sys.executable, "-c", imports) for _ in range(3)
        ),
        "dvc repro prepare (ingest, validate, prepare)": run(str(BIN / "dvc"), "repro", "prepare"),
        "dvc repro prepare again (no-op, DVC floor)": run(str(BIN / "dvc"), "repro", "prepare"),
    }


def report(title: str, results: dict[str, float]) -> None:
    baseline = next(iter(results.values()))
    print(f"\n{title}")
    for name, seconds in results.items():
        print(f"  {name:<58} {seconds:7.2f} s  x{seconds / baseline:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report(f"in process, {args.rows} rows, median of {args.runs}", in_process(
            args.rows, args.runs, work
        ))  # fmt: skip
        e2e = end_to_end(args.rows, work)
        report(f"end to end, {args.rows} rows, one run", e2e)
    total = e2e["dvc repro prepare (ingest, validate, prepare)"]
    print(f"\nstage 1 takes {total:.1f} s of the 180 s pipeline budget ({total / 180:.0%})")


if __name__ == "__main__":
    main()
