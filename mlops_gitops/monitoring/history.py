"""The monitoring history of an environment, kept in the repository.

Layout (``<history>`` is ``monitoring.history``, default ``monitoring``)::

    <history>/<env>/
      runs/<YYYY-MM>/<YYYYmmddTHHMMSSZ>.json   every figure of one run
      runs/<YYYY-MM>/<YYYYmmddTHHMMSSZ>.md     the same run as a readable report
      history.jsonl                            one summary line per run (trends, docs plots)
      state.json                               alert state: cooldowns, last deliveries
      metrics.prom                             the last run as Prometheus gauges
                                               (textfile-collector format)

A ``history.jsonl`` line: ``{"timestamp", "run", "status", "score",
"health": {model: score}, "rows": {model: rows}, "alerts": ["rule/model"],
"failed": ["rule/model:channel"]}``. Every file is written atomically; the
scheduled workflow commits the folder, so history, trends and audits come
from Git.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_gitops.documents import parse_json_lines, read_json
from mlops_gitops.errors import DataError
from mlops_gitops.roundtrip import write_atomic

HISTORY_FILE = "history.jsonl"
STATE_FILE = "state.json"
PROM_FILE = "metrics.prom"


class HistoryError(DataError):
    """A file of the monitoring history cannot be read."""


@dataclass(frozen=True, kw_only=True)
class RunPaths:
    """Where one run's files go."""

    folder: Path
    json: Path
    markdown: Path
    history: Path
    state: Path
    prometheus: Path


def run_paths(root: Path, history: str, env: str, now: datetime) -> RunPaths:
    """Return the paths of a run at ``now`` in the history of ``env``."""
    folder = root / history / env
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    runs = folder / "runs" / now.strftime("%Y-%m")
    return RunPaths(
        folder=folder,
        json=runs / f"{stamp}.json",
        markdown=runs / f"{stamp}.md",
        history=folder / HISTORY_FILE,
        state=folder / STATE_FILE,
        prometheus=folder / PROM_FILE,
    )


def to_jsonable(value: object) -> Any:
    """Turn dataclasses, datetimes, mappings and tuples into JSON values (NaN -> null)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | Path):
        return value.isoformat() if isinstance(value, datetime) else value.as_posix()
    return None if isinstance(value, float) and not math.isfinite(value) else value


def dump_json(value: object) -> str:
    """Return ``value`` as indented, stable JSON text with a trailing newline."""
    return json.dumps(to_jsonable(value), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def read_state(path: Path) -> dict[str, Any]:
    """Return the alert state (empty when the file does not exist yet).

    Raises:
        HistoryError: the file exists but is not a JSON object.
    """
    if not path.exists():
        return {}
    value = read_json(path, error=HistoryError, fix="fix or delete it")
    if not isinstance(value, dict):
        raise HistoryError(f"{path}: expected a JSON object; fix or delete it")
    return value


def read_history(path: Path) -> list[dict[str, Any]]:
    """Return the summary lines of ``history.jsonl``, oldest first.

    Raises:
        HistoryError: a line is not a JSON object.
    """
    if not path.exists():
        return []
    entries = []
    text = path.read_text(encoding="utf-8")
    for number, entry in parse_json_lines(text, str(path), error=HistoryError):
        if not isinstance(entry, dict):
            raise HistoryError(f"{path}:{number}: expected a JSON object")
        entries.append(entry)
    return entries


def past_scores(entries: Sequence[Mapping[str, Any]], model: str, limit: int) -> list[float]:
    """Return the last ``limit`` health scores of ``model``, oldest first."""
    scores = []
    for entry in entries:
        value = (entry.get("health") or {}).get(model)
        if isinstance(value, int | float):
            scores.append(float(value))
    return scores[-(limit - 1) :] if limit > 1 else []


def write_run(
    paths: RunPaths,
    *,
    report: object,
    markdown: str,
    summary: Mapping[str, Any],
    state: Mapping[str, Any],
) -> list[Path]:
    """Write a run's JSON and Markdown, append its summary line, save the state."""
    history_text = paths.history.read_text(encoding="utf-8") if paths.history.exists() else ""
    if history_text and not history_text.endswith("\n"):
        history_text += "\n"
    line = json.dumps(to_jsonable(summary), allow_nan=False, ensure_ascii=False, sort_keys=True)
    texts = {
        paths.json: dump_json(report),
        paths.markdown: markdown,
        paths.history: history_text + line + "\n",
        paths.state: dump_json(state),
    }
    for path, text in texts.items():
        write_atomic(path, text)
    return list(texts)
