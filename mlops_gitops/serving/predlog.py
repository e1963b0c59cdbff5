"""Prediction and feedback logs, written off the request path for monitoring.

Layout under the environment's log store (``serving.prediction_log.store``,
an fsspec URL, else the local ``serving.prediction_log.path``, default
``.mlops/predictions/<env>``), one folder per model::

    <model>/part-<UTC yyyymmddTHHMMSS>-<seq>-<writer>.parquet         predictions
    <model>/feedback-<UTC yyyy-mm-dd>-<HHMMSS>-<seq>-<writer>.jsonl    ground-truth labels

``<writer>`` is unique per server process, so replicas sharing a store never
write the same name; each file is written whole (see :mod:`mlops_gitops.logstore`).

Prediction columns: ``timestamp`` (UTC, microseconds), ``request_id``,
``model``, ``version``, every feature column as sent (numeric float64,
categorical string), then the task's columns: ``prediction`` (binary
int64 0/1 decided with the recorded threshold, multiclass the class name,
regression the float64 value), ``score`` (float64: the probability of class
1, of the predicted class, or the value) and, for multiclass, one float64
``proba:<class>`` per class. Row ``i`` of a request with several rows is
logged with request id ``<id>#<i>``.

Requests append batches to a bounded queue and never wait: when
``queue_size`` batches are pending the batch is dropped and counted
(``dropped``, and the ``mlops_prediction_log_dropped_total`` metric), so a
slow disk or store can never slow or fail inference; a failed write is
counted (``write_failures``) and logged, and its rows are lost. Memory is bounded by
``queue_size`` requests plus ``rotate_rows`` buffered rows per model. One
background thread drains the queue every 0.2 s, buffers rows per model and
writes a new part file when ``rotate_rows`` rows or ``rotate_seconds`` have
accumulated, on :meth:`PredictionLog.flush` and on :meth:`PredictionLog.close`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlops_gitops.logstore import Location, StoreError, open_location
from mlops_gitops.serving.model import Rows
from mlops_gitops.serving.plan import PredictionLogSettings, ServingPlan

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

# How often the writer thread wakes to drain the pending batches.
TICK_SECONDS = 0.2


@dataclass(frozen=True, kw_only=True)
class PredictionBatch:
    """The rows of one request as they go to the log."""

    model: str
    version: str
    request_id: str
    timestamp_us: int
    columns: Rows
    predictions: np.ndarray
    scores: np.ndarray
    # The task's extra float64 columns (multiclass: ``proba:<class>``).
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)


class PredictionLog:
    """A bounded, background writer of rotating Parquet prediction files."""

    def __init__(
        self,
        root: Path | Location,
        settings: PredictionLogSettings,
        *,
        on_drop: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root if isinstance(root, Location) else open_location(root)
        self.settings = settings
        self.dropped = 0
        self.write_failures = 0
        self._writer = uuid.uuid4().hex[:12]
        self._feedback: deque[tuple[str, str]] = deque()
        self.written_rows = 0
        self._on_drop = on_drop
        self._clock = clock
        # A deque, not a queue.Queue: appending never wakes the writer, which
        # drains on its own tick, so the request path pays no thread switch.
        self._pending: deque[PredictionBatch] = deque()
        self._buffers: dict[str, list[PredictionBatch]] = {}
        self._buffered_rows: dict[str, int] = {}
        self._opened: dict[str, float] = {}
        self._seq = 0
        self._wake = threading.Event()
        self._flushed = threading.Condition()
        self._flushes = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, batch: PredictionBatch) -> bool:
        """Queue a batch for writing; return False (and count it) when the queue is full."""
        if len(self._pending) >= self.settings.queue_size:
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(batch.model)
            return False
        self._pending.append(batch)
        return True

    def depth(self) -> int:
        """Return how many batches wait for the writer."""
        return len(self._pending)

    def record_feedback(self, model: str, request_id: str, label: object) -> None:
        """Queue a ground-truth label for a request; the writer stores it on its next tick."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        line = json.dumps(
            {
                "request_id": request_id,
                "label": label,
                "timestamp": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            }
        )
        self._feedback.append((model, line))

    def flush(self, timeout: float = 10.0) -> None:
        """Write everything recorded so far (blocks until the writer has done so)."""
        with self._flushed:
            target = self._flushes + 1
            self._wake.set()
            self._flushed.wait_for(lambda: self._flushes >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is buffered and stop the writer thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(TICK_SECONDS)
            self._wake.clear()
            while self._pending:
                self._buffer(self._pending.popleft())
            self._rotate(force=woken)
            self._write_feedback()
            if woken:
                with self._flushed:
                    self._flushes += 1
                    self._flushed.notify_all()
            if self._stopping and not self._pending:
                return

    def _buffer(self, batch: PredictionBatch) -> None:
        self._buffers.setdefault(batch.model, []).append(batch)
        self._opened.setdefault(batch.model, self._clock())
        rows = self._buffered_rows.get(batch.model, 0) + batch.predictions.shape[0]
        self._buffered_rows[batch.model] = rows
        if rows >= self.settings.rotate_rows:
            self._write(batch.model)

    def _rotate(self, *, force: bool) -> None:
        now = self._clock()
        for model in list(self._buffers):
            if force or now - self._opened[model] >= self.settings.rotate_seconds:
                self._write(model)

    def _write(self, model: str) -> None:
        batches = self._buffers.pop(model, [])
        self._opened.pop(model, None)
        self._buffered_rows.pop(model, None)
        if not batches:
            return
        try:
            url = self._write_part(model, batches)
        except (StoreError, OSError):
            self.write_failures += 1
            logger.exception(
                "cannot write the prediction log of '%s'; %d batch(es) lost", model, len(batches)
            )
            return
        self.written_rows += sum(b.predictions.shape[0] for b in batches)
        logger.debug("wrote %s", url)

    def _name(self, kind: str, when: str) -> str:
        self._seq += 1
        return f"{kind}-{when}-{self._seq:06d}-{self._writer}"

    def _write_part(self, model: str, batches: list[PredictionBatch]) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(to_table(batches), sink)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%S")
        name = self._name("part", stamp) + ".parquet"
        return self.root.child(model).write(name, sink.getvalue().to_pybytes())

    def _write_feedback(self) -> None:
        lines: dict[str, list[str]] = {}
        while self._feedback:
            model, line = self._feedback.popleft()
            lines.setdefault(model, []).append(line)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%d-%H%M%S")
        for model, items in lines.items():
            data = ("\n".join(items) + "\n").encode()
            try:
                self.root.child(model).write(self._name("feedback", stamp) + ".jsonl", data)
            except (StoreError, OSError):
                self.write_failures += 1
                logger.exception("cannot write the feedback of '%s'; %d lost", model, len(items))


def open_log_store(plan: ServingPlan) -> Location:
    """Open the store that receives ``plan``'s prediction logs (checked reachable).

    Raises:
        StoreError: unknown scheme, missing package, or the store does not answer.
    """
    log = plan.settings.prediction_log
    if log.store:
        location = open_location(log.store, log.store_options, root=plan.root)
    else:
        location = open_location(plan.log_dir())
    location.check()
    return location


def to_table(batches: list[PredictionBatch]) -> pa.Table:
    """Return one model's batches as a pyarrow Table in the prediction-log column order."""
    import pyarrow as pa

    first = batches[0]
    sizes = [b.predictions.shape[0] for b in batches]
    total = sum(sizes)
    stamps = np.repeat(np.array([b.timestamp_us for b in batches], dtype="datetime64[us]"), sizes)
    ids = [i for b, n in zip(batches, sizes, strict=True) for i in _row_ids(b.request_id, n)]
    arrays: dict[str, pa.Array] = {
        "timestamp": pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
        "request_id": pa.array(ids, type=pa.string()),
        "model": pa.array([first.model] * total, type=pa.string()),
        "version": pa.array(np.repeat([b.version for b in batches], sizes).tolist(), pa.string()),
    }
    numeric = np.concatenate([b.columns.numeric for b in batches], axis=1)
    index = first.columns.schema.numeric_index
    for feature in first.columns.schema.features:
        if feature.kind == "numeric":
            arrays[feature.name] = pa.array(numeric[index[feature.name]], type=pa.float64())
        else:
            values = np.concatenate([b.columns.categorical[feature.name] for b in batches])
            arrays[feature.name] = pa.array(values.tolist(), type=pa.string())
    predictions = np.concatenate([b.predictions for b in batches])
    arrays["prediction"] = prediction_array(predictions)
    scores = np.concatenate([b.scores for b in batches]).astype(np.float64)
    arrays["score"] = pa.array(scores, type=pa.float64())
    for name in first.extra:
        column = np.concatenate([b.extra[name] for b in batches]).astype(np.float64)
        arrays[name] = pa.array(column, type=pa.float64())
    return pa.table(arrays)


def prediction_array(predictions: np.ndarray) -> pa.Array:
    """Return the prediction column typed by the task's values: int64, float64 or string."""
    import pyarrow as pa

    if predictions.dtype.kind == "f":
        return pa.array(predictions.astype(np.float64), type=pa.float64())
    if predictions.dtype.kind in "OUS":
        return pa.array(predictions.tolist(), type=pa.string())
    return pa.array(predictions.astype(np.int64), type=pa.int64())


def _row_ids(request_id: str, rows: int) -> list[str]:
    return [request_id] if rows == 1 else [f"{request_id}#{i}" for i in range(rows)]
