"""No raw PII anywhere a full demo run leaves it: Git, DVC's cache and remote, logs, reports.

The PII values come from the generator in memory (the demo's own sample and
the later period it replays), never from a file the demo wrote. Every Git
object is read through ``git cat-file --batch-all-objects``, every file of
the workspace (DVC cache, logs, reports, monitoring history) and of the DVC
remote is read, and Parquet objects are decoded by their magic number, so
compression cannot hide a value. Uses the session's one demo run (``demo_run``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlops_gitops import stage
from mlops_gitops.data import generate_later_period, generate_sample
from mlops_gitops.quality import PiiSearch, collect_pii_values, find_pii_leaks
from tests.helpers import DEMO_LOG

pytestmark = pytest.mark.slow

REPLAYED = 2000  # rows of the later period that the demo replays (demo._serve_and_replay)


def raw_pii_values(root: Path) -> dict[str, set[str]]:
    """Every PII value of every applicant the demo generated, from the generator's frames."""
    params = stage.load_sections("data", "schema", root=root)
    sample = params["data"]["sample"]
    frames = [
        generate_sample(sample["rows"], sample["seed"], sample["drift"]),
        generate_later_period(REPLAYED, sample["seed"], 1.0),
    ]
    pii = params["schema"]["pii"]
    values: dict[str, set[str]] = {name: set() for name in pii}
    for frame in frames:
        for name, found in collect_pii_values(frame, pii).items():
            values[name] |= found
    return values


def git_objects(root: Path) -> Iterator[tuple[str, bytes]]:
    """Every object of the repository (blobs, trees, commits, tags, notes), decompressed."""
    out = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=root, capture_output=True, check=True,
    ).stdout  # fmt: skip
    at = 0
    while at < len(out):
        header_end = out.index(b"\n", at)
        sha, _kind, size = out[at:header_end].split()
        start = header_end + 1
        yield sha.decode(), out[start : start + int(size)]
        at = start + int(size) + 1


def test_demo_leaves_no_raw_pii_in_git_dvc_logs_or_reports(demo_run):
    root, remote = demo_run.path, demo_run.remote
    values = raw_pii_values(root)
    assert all(len(found) >= 600 for found in values.values()), values.keys()
    objects = dict(git_objects(root))
    assert len(objects) > 50, "the demo's history is there to scan"
    search = PiiSearch(values)
    leaks = [leak for sha, data in objects.items() for leak in search.in_bytes(data, sha)]
    files = [
        p for p in root.rglob("*") if p.is_file() and root / ".git" / "objects" not in p.parents
    ]
    cache = [p for p in files if root / ".dvc" / "cache" in p.parents]
    assert any(p.read_bytes()[:4] == b"PAR1" for p in cache), "the cache holds the data"
    assert (root / "logs").is_dir() and (root / "reports" / "validation.json").is_file()
    leaks += find_pii_leaks(values, [*files, remote, root.parent / DEMO_LOG])
    assert leaks == []


def test_demo_commits_no_prediction_log_and_only_aggregates_of_monitoring(demo_run):
    root = demo_run.path
    tracked = subprocess.run(
        ["git", "log", "--all", "--name-only", "--format="], cwd=root,
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert not [p for p in tracked if p.startswith("logs/")]
    assert any(p.startswith("monitoring/dev/") for p in tracked)
    logged = pd.concat(pd.read_parquet(p) for p in (root / "logs").rglob("*.parquet"))
    assert len(logged) == demo_run.replayed
    history = [p for p in (root / "monitoring" / "dev").rglob("*") if p.is_file()]
    text = "\n".join(p.read_text() for p in history)
    assert not [r for r in logged["request_id"] if r in text], "a per-request record"
    groups = [group for p in history if p.suffix in (".json", ".jsonl") for group in numbers_of(p)]
    applicants = logged[list(FEATURES)].dropna().itertuples(index=False)
    assert not [a for a in applicants for g in groups if set(a) <= g], "an applicant's features"
    scores = {float(s) for s in logged["score"] if s != round(s, 4)}  # one request's own score
    assert len(scores) > 1000 and not scores & set().union(*groups), "an applicant's score"


FEATURES = ("income", "loan_amount", "interest_rate", "debt_to_income", "credit_history_years")


def numbers_of(path: Path) -> Iterator[set[float]]:
    """The numbers of each object and list of a JSON (or JSON Lines) file, one set per container."""
    lines = path.read_text().splitlines() if path.suffix == ".jsonl" else [path.read_text()]
    stack = [json.loads(line) for line in lines if line.strip()]
    while stack:
        value = stack.pop()
        items = list(value.values()) if isinstance(value, dict) else value
        if not isinstance(items, list):
            continue
        stack.extend(items)
        yield {float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)}
