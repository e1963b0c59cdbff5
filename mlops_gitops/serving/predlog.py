"""Prediction and feedback logs, written off the request path for monitoring.

Layout under the environment's log folder (``serving.prediction_log.path``,
default ``.mlops/predictions/<env>``), one folder per model::

    <model>/part-<UTC yyyymmddTHHMMSS>-<seq>.parquet   predictions
    <model>/feedback-<UTC yyyy-mm-dd>.jsonl            ground-truth labels

Prediction columns: ``timestamp`` (UTC, microseconds), ``request_id``,
``model``, ``version``, every feature column as sent (numeric float64,
categorical string), ``prediction`` (int64) and ``score`` (float64, the
positive-class probability). Row ``i`` of a request with several rows is
logged with request id ``<id>#<i>``.

Requests put batches on a bounded queue and never wait: when the queue is
full the batch is dropped and counted (``dropped``), so a slow disk can
never slow or fail inference. One background thread buffers rows per model
and writes a new part file when ``rotate_rows`` rows or ``rotate_seconds``
have accumulated, and on :meth:`PredictionLog.close`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mlops_gitops.serving.plan import PredictionLogSettings

logger = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True)
class PredictionBatch:
    """The rows of one request as they go to the log."""

    model: str
    version: str
    request_id: str
    timestamp_us: int
    columns: Mapping[str, np.ndarray]
    predictions: np.ndarray
    scores: np.ndarray


class PredictionLog:
    """A bounded, background writer of rotating Parquet prediction files."""

    def __init__(
        self,
        root: Path,
        settings: PredictionLogSettings,
        *,
        on_drop: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.settings = settings
        self.dropped = 0
        self.written_rows = 0
        self._on_drop = on_drop
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue(maxsize=settings.queue_size)
        self._buffers: dict[str, list[PredictionBatch]] = {}
        self._buffered_rows: dict[str, int] = {}
        self._opened: dict[str, float] = {}
        self._seq = 0
        self._feedback_lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, batch: PredictionBatch) -> bool:
        """Queue a batch for writing; return False (and count it) when the queue is full."""
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(batch.model)
            return False
        return True

    def depth(self) -> int:
        """Return how many batches wait in the queue."""
        return self._queue.qsize()

    def record_feedback(self, model: str, request_id: str, label: object) -> Path:
        """Append a ground-truth label for a request to the day's feedback file."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        folder = self.root / model
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"feedback-{now:%Y-%m-%d}.jsonl"
        line = json.dumps(
            {
                "request_id": request_id,
                "label": label,
                "timestamp": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            }
        )
        with self._feedback_lock, path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return path

    def flush(self, timeout: float = 10.0) -> None:
        """Write everything queued so far (blocks until the writer has caught up)."""
        done = threading.Event()
        self._queue.put(done, timeout=timeout)
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is buffered and stop the writer thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP, timeout=timeout)
            self._thread.join(timeout)

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=min(1.0, self.settings.rotate_seconds))
            except queue.Empty:
                self._rotate(force=False)
                continue
            if item is _STOP:
                self._rotate(force=True)
                return
            if isinstance(item, threading.Event):
                self._rotate(force=True)
                item.set()
                continue
            assert isinstance(item, PredictionBatch)  # only batches, events and _STOP are queued
            self._buffer(item)

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
            path = self._write_part(model, batches)
        except OSError:
            logger.exception(
                "cannot write the prediction log of '%s'; %d batch(es) lost", model, len(batches)
            )
            return
        self.written_rows += sum(b.predictions.shape[0] for b in batches)
        logger.debug("wrote %s", path)

    def _write_part(self, model: str, batches: list[PredictionBatch]) -> Path:
        import pyarrow.parquet as pq

        table = to_table(batches)
        folder = self.root / model
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%S")
        tmp = folder / f".part-{os.getpid()}-{threading.get_ident()}.tmp"
        pq.write_table(table, tmp)
        try:
            while True:
                self._seq += 1
                final = folder / f"part-{stamp}-{self._seq:06d}.parquet"
                try:
                    os.link(tmp, final)  # fails if another worker took the name
                    return final
                except FileExistsError:
                    continue
        finally:
            tmp.unlink(missing_ok=True)


def to_table(batches: list[PredictionBatch]) -> object:
    """Return the batches as one pyarrow Table in the prediction-log column order."""
    import pyarrow as pa

    first = batches[0]
    sizes = [b.predictions.shape[0] for b in batches]
    stamps = np.repeat(np.array([b.timestamp_us for b in batches], dtype="datetime64[us]"), sizes)
    ids = [_row_ids(b.request_id, n) for b, n in zip(batches, sizes, strict=True)]
    arrays: dict[str, object] = {
        "timestamp": pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
        "request_id": pa.array([i for group in ids for i in group], type=pa.string()),
        "model": pa.array(
            [b.model for b, n in zip(batches, sizes, strict=True) for _ in range(n)],
            type=pa.string(),
        ),
        "version": pa.array(
            np.repeat([b.version for b in batches], sizes).tolist(), type=pa.string()
        ),
    }
    for name in first.columns:
        values = np.concatenate([b.columns[name] for b in batches])
        if values.dtype == object:
            arrays[name] = pa.array(values.tolist(), type=pa.string())
        else:
            arrays[name] = pa.array(values.astype(np.float64), type=pa.float64())
    arrays["prediction"] = pa.array(
        np.concatenate([b.predictions for b in batches]).astype(np.int64)
    )
    arrays["score"] = pa.array(np.concatenate([b.scores for b in batches]).astype(np.float64))
    return pa.table(arrays)


def _row_ids(request_id: str, rows: int) -> list[str]:
    return [request_id] if rows == 1 else [f"{request_id}#{i}" for i in range(rows)]
