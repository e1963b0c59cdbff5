"""Read the server's prediction logs and feedback labels for a time window.

The server writes, to the manifest's ``serving.prediction_log.store`` (an
fsspec URL, so a monitor on another machine reads what the server wrote) or
its local ``path`` (default ``.mlops/predictions/<env>``), one folder per model:

- ``<model>/part-<UTC yyyymmddTHHMMSS>-<seq>[-<writer>].parquet``: rotating Parquet
  files with ``timestamp`` (UTC), ``request_id``, ``model``, ``version``,
  every input feature, ``prediction`` and ``score`` as the model's task logs
  them (binary: 0/1 and the probability of class 1; multiclass: the class
  name, its probability and a ``proba:<class>`` column per class; regression:
  the value twice; clustering: the cluster id and its distance; anomaly: the
  0/1 flag and the anomaly score);
- ``<model>/feedback-<UTC yyyy-mm-dd>[-…].jsonl``: one ``{"request_id",
  "label", "timestamp"}`` object per line; the label as the task takes it
  (binary and anomaly 0/1, multiclass a class name, regression a number;
  clustering takes none).

A part file's name is the time it was opened and it holds rows until the next
one opens, so a window ``[start, end)`` reads the last file opened at or
before ``start`` and every later file opened before ``end``: the folder is
listed by name and only those files are fetched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mlops_gitops.documents import parse_json_lines
from mlops_gitops.errors import DataError
from mlops_gitops.logstore import Location, open_location

if TYPE_CHECKING:
    import pandas as pd

    from mlops_gitops.tasks import Task

META_COLUMNS = ("timestamp", "request_id", "model", "version")
OUTPUT_COLUMNS = ("prediction", "score")
# A multiclass log's per-class probability columns: ``proba:<class name>``.
PROBA = "proba:"
_PART = re.compile(r"^part-(\d{8}T\d{6})-(\d+)(?:-[0-9a-f]+)?\.parquet$")
_FEEDBACK = re.compile(r"^feedback-(\d{4}-\d{2}-\d{2})(?:-\d{6}-\d+-[0-9a-f]+)?\.jsonl$")
Folder = Path | Location


class LogError(DataError):
    """A prediction log or feedback file cannot be read."""


def _location(folder: Folder) -> Location:
    return folder if isinstance(folder, Location) else open_location(folder)


def list_parts(folder: Folder, start: datetime, end: datetime) -> list[PurePosixPath]:
    """Return the part files of ``folder`` that may hold rows in ``[start, end)``."""
    opened: list[tuple[datetime, int, PurePosixPath]] = []
    for path in _location(folder).names("part-"):
        match = _PART.match(path.name)
        if match is None:
            continue
        when = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        opened.append((when, int(match.group(2)), path))
    opened.sort()
    first = 0
    for index, (when, _, _) in enumerate(opened):
        if when <= start:
            first = index
    return [path for when, _, path in opened[first:] if when < end]


def _as_utc(frame: pd.DataFrame, column: str, origin: object) -> pd.DataFrame:
    import pandas as pd

    try:
        stamps = pd.to_datetime(frame[column], utc=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise LogError(f"{origin}: column '{column}' missing or not a timestamp") from exc
    return frame.assign(**{column: stamps})


def read_predictions(folder: Folder, start: datetime, end: datetime) -> pd.DataFrame:
    """Return the logged predictions of ``folder`` with ``start <= timestamp < end``.

    An empty window gives an empty frame (no columns when no file matched).

    Raises:
        LogError: a part file is not readable Parquet or has no ``timestamp``.
    """
    import pandas as pd

    location = _location(folder)
    frames = []
    for path in list_parts(location, start, end):
        data = location.read_bytes(path.name)
        origin = f"{location.url}/{path.name}"
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except (OSError, ValueError) as exc:
            raise LogError(f"{origin}: not a readable Parquet file ({exc})") from exc
        frame = _as_utc(frame, "timestamp", origin)
        frames.append(frame[(frame["timestamp"] >= start) & (frame["timestamp"] < end)])
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def read_feedback(
    folder: Folder, start: datetime, *, task: Task | None = None, classes: Sequence[str] = ()
) -> pd.DataFrame:
    """Return the feedback labels written on or after ``start``'s day, last label per request.

    Labels are checked and encoded by the model's ``task`` (default binary):
    binary 0/1, multiclass a class name of ``classes`` (as its code),
    regression a finite number; a task without monitoring metrics (clustering)
    takes no feedback.

    Raises:
        LogError: a line is not a JSON object with ``request_id`` and ``label``, a
            label does not fit the task, or the task takes no feedback.
    """
    import pandas as pd

    from mlops_gitops.tasks import load_task, watch_of

    task = task or load_task("binary")
    location = _location(folder)
    frames: list[pd.DataFrame] = []
    for path in location.names("feedback-"):
        match = _FEEDBACK.match(path.name)
        if match is None or match.group(1) < start.date().isoformat():
            continue
        origin = f"{location.url}/{path.name}"
        records = _read_feedback_file(origin, location.read_bytes(path.name).decode("utf-8"))
        if records and not watch_of(task).metrics:
            raise LogError(
                f"{origin}: feedback does not apply to task {task.name}: "
                "its model predicts no label to compare with"
            )
        frames.append(_encoded(records, task, classes, origin))
    if not frames or all(f.empty for f in frames):
        return pd.DataFrame({"request_id": pd.Series(dtype=str), "label": pd.Series(dtype=int)})
    frame = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    return frame.drop_duplicates("request_id", keep="last").reset_index(drop=True)


def _read_feedback_file(path: str, text: str) -> list[tuple[int, str, object]]:
    records = []
    for number, item in parse_json_lines(text, path, error=LogError):
        if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
            raise LogError(f"{path}:{number}: expected an object with 'request_id' and 'label'")
        records.append((number, str(item["request_id"]), item["label"]))
    return records


def _encoded(
    records: Sequence[tuple[int, str, object]], task: Task, classes: Sequence[str], origin: str
) -> pd.DataFrame:
    """Return the file's ``request_id`` and encoded ``label``; a bad label names its line."""
    import pandas as pd

    def encode(values: list[object], where: str) -> object:
        column = pd.Series(values, name="label")
        return task.encode_labels(column, origin=where, classes=tuple(classes)).values

    ids = [request for _, request, _ in records]
    try:
        labels = encode([label for _, _, label in records], origin)
    except DataError:
        for number, _, label in records:  # find the first bad line to name it
            try:
                encode([label], f"{origin}:{number}")
            except DataError as exc:
                raise LogError(str(exc)) from exc
        raise
    return pd.DataFrame({"request_id": ids, "label": labels})


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Return the input feature columns of a prediction log frame, in order."""
    fixed = set(META_COLUMNS) | set(OUTPUT_COLUMNS)
    return [str(c) for c in frame.columns if c not in fixed and not str(c).startswith(PROBA)]
