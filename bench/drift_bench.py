"""Drift over 20 features: mlops_gitops against a plain numpy/scipy floor and evidently.

Data: 15 numeric and 5 categorical features (string categories), reference
against current rows, half of the features shifted. Three contenders, timed
in the same run on the same data (best of ``--repeat``):

- ``mlops``: ``mlops_gitops.monitoring.compute_drift`` (PSI + KS, PSI + chi-square);
- ``floor``: the same statistics written plainly: ``np.quantile`` edges and
  ``np.histogram`` for PSI, ``scipy.stats.ks_2samp`` per numeric feature,
  ``np.unique`` counts and ``scipy.stats.chi2_contingency`` per categorical one;
- ``evidently``: ``Report([DataDriftPreset()]).run(current, reference)``, its
  default data-drift preset, run by the interpreter of a separate virtual
  environment (``--evidently-python``; evidently needs pandas < 3), on the
  same data written to Parquet; only ``run`` is timed.

Usage::

    python bench/drift_bench.py --sizes 10000:100000 100000:1000000 \
        --evidently-python /tmp/evbench/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mlops_gitops.monitoring.config import DriftConfig
from mlops_gitops.monitoring.drift import compute_drift

NUMERIC = [f"num_{i:02d}" for i in range(15)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
LEVELS = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])

EVIDENTLY_SCRIPT = """
import sys, time, json
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
best = float("inf")
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    Report([DataDriftPreset()]).run(cur, ref)
    best = min(best, time.perf_counter() - started)
print(json.dumps({"seconds": best}))
"""


def make_frame(rows: int, seed: int, *, shifted: bool) -> pd.DataFrame:
    """Return ``rows`` rows of the 20 features; ``shifted`` moves half of them."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        shift = 0.3 if shifted and i % 2 == 0 else 0.0
        columns[name] = rng.normal(shift, 1.0 + i / 10, rows)
    for i, name in enumerate(CATEGORICAL):
        weights = np.linspace(1, 2, len(LEVELS))
        if shifted and i % 2 == 0:
            weights = weights[::-1]
        columns[name] = LEVELS[rng.choice(len(LEVELS), rows, p=weights / weights.sum())]
    return pd.DataFrame(columns)


def floor_drift(reference: pd.DataFrame, current: pd.DataFrame, bins: int = 10) -> dict[str, float]:
    """Compute PSI + KS / PSI + chi-square per feature the plain way; return PSI per feature."""
    psi: dict[str, float] = {}
    for name in NUMERIC:
        ref, cur = reference[name].to_numpy(), current[name].to_numpy()
        edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
        bounds = np.concatenate(([-np.inf], edges, [np.inf]))
        p = np.maximum(np.histogram(ref, bounds)[0] / ref.size, 1e-4)
        q = np.maximum(np.histogram(cur, bounds)[0] / cur.size, 1e-4)
        psi[name] = float(np.sum((q - p) * np.log(q / p)))
        stats.ks_2samp(ref, cur, method="asymp")
    for name in CATEGORICAL:
        ref_values, ref_counts = np.unique(reference[name].to_numpy(dtype=str), return_counts=True)
        cur_values, cur_counts = np.unique(current[name].to_numpy(dtype=str), return_counts=True)
        levels = np.union1d(ref_values, cur_values)
        table = np.zeros((2, levels.size))
        table[0, np.searchsorted(levels, ref_values)] = ref_counts
        table[1, np.searchsorted(levels, cur_values)] = cur_counts
        stats.chi2_contingency(table, correction=False)
        p = np.maximum(table[0] / table[0].sum(), 1e-4)
        q = np.maximum(table[1] / table[1].sum(), 1e-4)
        psi[name] = float(np.sum((q - p) * np.log(q / p)))
    return psi


def best_of(repeat: int, function: Callable[[], object]) -> float:
    """Return the fastest of ``repeat`` timed calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def time_evidently(
    python: str, reference: pd.DataFrame, current: pd.DataFrame, repeat: int
) -> float | None:
    """Return evidently's best time on the same data, or None when it cannot run."""
    with tempfile.TemporaryDirectory() as folder:
        ref_path, cur_path = Path(folder, "ref.parquet"), Path(folder, "cur.parquet")
        reference.to_parquet(ref_path)
        current.to_parquet(cur_path)
        proc = subprocess.run(
            [python, "-c", EVIDENTLY_SCRIPT, str(ref_path), str(cur_path), str(repeat)],
            capture_output=True, text=True, check=False, timeout=1800,
        )  # fmt: skip
    if proc.returncode != 0:
        print(f"  evidently failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def run_size(n_ref: int, n_cur: int, *, repeat: int, evidently: str | None) -> dict[str, object]:
    """Time the three contenders at one size and return the figures."""
    reference = make_frame(n_ref, 1, shifted=False)
    current = make_frame(n_cur, 2, shifted=True)
    features = NUMERIC + CATEGORICAL
    report = compute_drift(reference, current, features, DriftConfig())
    floor_psi = floor_drift(reference, current)
    worst = max(abs(f.psi - floor_psi[f.feature]) for f in report.features)
    ours = best_of(repeat, lambda: compute_drift(reference, current, features, DriftConfig()))
    floor = best_of(repeat, lambda: floor_drift(reference, current))
    ev = time_evidently(evidently, reference, current, max(1, repeat // 2)) if evidently else None
    return {
        "reference_rows": n_ref, "current_rows": n_cur, "features": len(features),
        "mlops_s": ours, "floor_s": floor, "evidently_s": ev,
        "mlops_vs_floor": ours / floor, "evidently_vs_mlops": None if ev is None else ev / ours,
        "drifted": report.drifted_count, "max_psi_difference_vs_floor": worst,
    }  # fmt: skip


def main() -> None:
    """Parse arguments, run every size, print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000:100000"], help="REF:CUR row counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently-python", help="python of a venv where evidently is installed")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        n_ref, n_cur = (int(x) for x in size.split(":"))
        result = run_size(n_ref, n_cur, repeat=args.repeat, evidently=args.evidently_python)
        results.append(result)
        ev = result["evidently_s"]
        print(
            f"{n_ref:>8} vs {n_cur:>8} rows, 20 features: mlops {result['mlops_s']:.3f} s, "
            f"numpy/scipy floor {result['floor_s']:.3f} s "
            f"(mlops/floor {result['mlops_vs_floor']:.2f}x), "
            + ("evidently not measured" if ev is None else
               f"evidently {ev:.2f} s (evidently/mlops {result['evidently_vs_mlops']:.1f}x)")
        )  # fmt: skip
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
