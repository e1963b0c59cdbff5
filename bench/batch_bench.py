"""Batch prediction throughput against raw ONNX Runtime, measured in the same run.

Usage: python bench/batch_bench.py [--rows 1000000] [--chunk-rows 100000] [--repeat 3]

The model is the serving benchmark's (HistGradientBoosting on 30 numeric
features, one ONNX input per feature). The baseline is raw ONNX Runtime
scoring the whole table already in memory (one ``session.run``, same thread
count); ``mlops predict`` reads the Parquet file in chunks, scores and
writes the output Parquet (input columns plus prediction and score).
Goal (serving issue): at least 70% of raw ONNX Runtime's rows per second.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from serving_bench import NAMES, build_model

from mlops_gitops.serving.batch import predict_with
from mlops_gitops.serving.model import open_session, open_version_session


def make_input(path: Path, rows: int) -> None:
    rng = np.random.default_rng(3)
    table = pa.table({name: rng.normal(size=rows) for name in NAMES})
    pq.write_table(table, path)


def raw_ort(model: Path, data: Path, threads: int) -> float:
    """Seconds for one session.run over every row (data already in memory)."""
    session = open_session(model, threads=threads, what="baseline")
    table = pq.read_table(data)
    feeds = {n: table.column(n).to_numpy().astype(np.float32).reshape(-1, 1) for n in NAMES}
    started = time.perf_counter()
    session.run(None, feeds)
    return time.perf_counter() - started


PEAK_CODE = """
import resource, sys
from pathlib import Path
from mlops_gitops.serving.batch import predict_with
from mlops_gitops.serving.model import open_version_session
model = open_version_session(
    Path(sys.argv[1]), name="bench", version="v1", md5=sys.argv[2], threads=2
)
predict_with(model, (Path(sys.argv[3]), Path(sys.argv[4])), chunk_rows=int(sys.argv[5]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_rss_mib(model: Path, digest: str, data: Path, chunk_rows: int) -> int:
    """Peak RSS (MiB) of a fresh process that runs one batch prediction of ``data``."""
    out = data.with_name("peak-output.parquet")
    args = [
        sys.executable,
        "-c",
        PEAK_CODE,
        str(model),
        digest,
        str(data),
        str(out),
        str(chunk_rows),
    ]
    return int(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_path, _ = build_model(folder)
        data = folder / "input.parquet"
        make_input(data, args.rows)
        digest = hashlib.md5(model_path.read_bytes()).hexdigest()
        model = open_version_session(
            model_path, name="bench", version="v1", md5=digest, threads=threads
        )
        raw, ours = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            raw.append(raw_ort(model_path, data, threads))
            report = predict_with(
                model, (data, folder / "output.parquet"), chunk_rows=args.chunk_rows
            )
            ours.append(report.seconds)
        half = folder / "half.parquet"
        make_input(half, args.rows // 2)
        peaks = {
            n: peak_rss_mib(model_path, digest, p, args.chunk_rows)
            for n, p in ((args.rows // 2, half), (args.rows, data))
        }
    raw_rps = args.rows / statistics.median(raw)
    our_rps = args.rows / statistics.median(ours)
    raw_s, our_s = statistics.median(raw), statistics.median(ours)
    print(f"rows: {args.rows:,}  chunk: {args.chunk_rows:,}  threads: {threads}")
    print(f"repeats: {args.repeat}, interleaved")
    print("| run | seconds (median) | rows/s |")
    print("|---|---|---|")
    print(f"| raw ONNX Runtime, in memory, one run | {raw_s:.2f} | {raw_rps:,.0f} |")
    print(f"| mlops predict, Parquet in -> Parquet out | {our_s:.2f} | {our_rps:,.0f} |")
    ratio = our_rps / raw_rps
    print(
        f"\ngoal >= 70% of raw ONNX Runtime: {ratio:.0%} -> {'met' if ratio >= 0.7 else 'NOT met'}"
    )
    flat = ", ".join(f"{n:,} rows: {mib} MiB" for n, mib in peaks.items())
    print(f"peak RSS of a process running only the batch prediction: {flat}")


if __name__ == "__main__":
    main()
