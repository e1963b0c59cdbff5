"""Batch prediction: score a CSV or Parquet file in chunks with a manifest-pinned model.

Reads the input in chunks of ``chunk_rows`` (pyarrow's streaming readers),
scores each chunk with ONNX Runtime and appends it to the output, so memory
stays flat however large the file is (at most three chunks are in flight:
one scored, two queued for the writer thread). The output keeps the input
columns that are not model features (ids, labels, dates; ``"all"`` keeps
every column) in input order, plus the task's columns as the prediction log
has them: ``prediction`` (binary int64 0/1 decided with the recorded
threshold, multiclass the class name, regression the float64 value),
``score`` (float64: the probability of class 1, of the predicted class, or
the value) and, for multiclass, ``proba:<class>`` per class; it is written to a temporary
file and moved into place only when complete.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mlops_gitops.errors import DataError
from mlops_gitops.serving.model import ModelSchema, Rows, VersionSession
from mlops_gitops.serving.modelset import load_model_set
from mlops_gitops.serving.plan import ServingPlan, read_plan, restrict_plan
from mlops_gitops.serving.predlog import prediction_array

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 100_000
FileFormat = Literal["csv", "parquet"]
OutputColumns = Literal["extra", "all"]
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, kw_only=True)
class BatchReport:
    """What a batch prediction did."""

    model: str
    version: str
    input: Path
    output: Path
    rows: int
    chunks: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Return the throughput of the whole run (read, score, write)."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def file_format(path: Path) -> FileFormat:
    """Return the format of a data file from its extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    raise DataError(f"{path}: unknown file type '{suffix}'; use .csv, .parquet or .pq")


@dataclass(frozen=True)
class BatchOptions:
    """How to score a file: version, chunk size, threads and output columns."""

    version: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    threads: int | None = None
    output_columns: OutputColumns = "extra"


def predict_file(
    root: str | os.PathLike[str],
    env: str,
    model: str,
    paths: tuple[Path, Path],
    *,
    options: BatchOptions = BatchOptions(),
    on_progress: Progress | None = None,
) -> BatchReport:
    """Score ``paths[0]`` with ``model`` as ``env`` pins it and write ``paths[1]``.

    Raises:
        ServingError: the model or version is not pinned, or its artifact does not verify.
        DataError: the input cannot be read or lacks a feature column.
    """
    plan = read_plan(root, env)
    threads = options.threads or os.cpu_count() or 1
    loaded = load_pinned(plan, model, version=options.version, threads=threads)
    return predict_with(
        loaded,
        paths,
        chunk_rows=options.chunk_rows,
        output_columns=options.output_columns,
        on_progress=on_progress,
    )


def load_pinned(
    plan: ServingPlan, model: str, *, version: str | None, threads: int
) -> VersionSession:
    """Load one pinned version of ``model`` (its stable version by default)."""
    pinned = plan.model(model)
    alone = restrict_plan(plan, (f"{model}={version or pinned.variants[0].version}",))
    return load_model_set(alone, threads=threads).models[model].primary


def predict_with(
    model: VersionSession,
    paths: tuple[Path, Path],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    output_columns: OutputColumns = "extra",
    on_progress: Progress | None = None,
) -> BatchReport:
    """Score a file with an already loaded model (see :func:`predict_file`)."""
    source, target = paths
    started = time.perf_counter()
    total, chunks = 0, 0
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    sink = _Sink(tmp, file_format(target))
    try:
        reader, known = _open(source, model.schema, chunk_rows)
        for batch in reader:
            sink.put(score_batch(model, batch, source=source, offset=total, columns=output_columns))
            total += batch.num_rows
            chunks += 1
            if on_progress is not None:
                on_progress(total, known)
        sink.close()
        if total == 0:
            raise DataError(f"{source}: no rows to score")
        os.replace(tmp, target)
    finally:
        sink.abort()
        tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    logger.info("scored %d rows of %s in %.2f s", total, source, seconds)
    return BatchReport(
        model=model.name,
        version=model.version,
        input=source,
        output=target,
        rows=total,
        chunks=chunks,
        seconds=seconds,
    )


class _Sink:
    """Writes scored chunks on a background thread while the next chunk is scored."""

    def __init__(self, path: Path, kind: FileFormat) -> None:
        self.path = path
        self.kind = kind
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="batch-writer", daemon=True)
        self._thread.start()

    def put(self, batch: pa.RecordBatch) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def abort(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise DataError(f"{self.path}: cannot write the output") from self._error

    def _run(self) -> None:
        writer: Any = None
        try:
            while (batch := self._queue.get()) is not None:
                writer = writer or _writer(self.path, self.kind, batch.schema)
                writer.write_batch(batch)
        except (OSError, ValueError) as exc:  # pyarrow's write errors; raised in the caller
            self._error = exc
            while self._queue.get() is not None:  # let the producer finish
                pass
        finally:
            if writer is not None:
                writer.close()


def score_batch(
    model: VersionSession,
    batch: pa.RecordBatch,
    *,
    source: Path,
    offset: int,
    columns: OutputColumns = "extra",
) -> pa.RecordBatch:
    """Return ``batch``'s kept columns with the task's ``prediction``, ``score`` (...) appended.

    ``columns="extra"`` keeps the columns that are not model features (ids,
    labels, dates), ``"all"`` keeps every input column.
    """
    import pyarrow as pa

    rows = _rows(model.schema, batch, source=source, offset=offset)
    served = model.schema.serve(model.infer(rows))
    features = set(model.schema.names)
    kept = [n for n in batch.schema.names if columns == "all" or n not in features]
    arrays = [batch.column(n) for n in kept]
    arrays += [prediction_array(served.predictions), pa.array(served.scores, pa.float64())]
    arrays += [pa.array(column, pa.float64()) for column in served.columns.values()]
    names = [*kept, "prediction", "score", *served.columns]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _rows(schema: ModelSchema, batch: pa.RecordBatch, *, source: Path, offset: int) -> Rows:
    import pyarrow.compute as pc

    names = set(batch.schema.names)
    missing = [f.name for f in schema.features if f.name not in names]
    if missing:
        raise DataError(f"{source}: missing feature column(s) {', '.join(missing)}")
    numeric = [f.name for f in schema.features if f.kind == "numeric"]
    matrix = np.empty((len(numeric), batch.num_rows), dtype=np.float64)
    for i, name in enumerate(numeric):
        column = batch.column(name)
        try:
            matrix[i] = column.to_numpy(zero_copy_only=False)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{source}: column '{name}' is {column.type}; expected numbers"
            ) from exc
    categorical = {}
    for feature in schema.features:
        if feature.kind == "categorical":
            # a null is the missing category: the empty string in the ONNX contract
            column = pc.fill_null(_as_text(batch.column(feature.name), feature.name, source), "")
            categorical[feature.name] = column.to_numpy(zero_copy_only=False)
    return Rows(schema, matrix, categorical)


def _as_text(column: pa.Array, name: str, source: Path) -> pa.Array:
    import pyarrow as pa

    try:
        return column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"{source}: column '{name}' is {column.type}; expected text") from exc


def _open(
    path: Path, schema: ModelSchema, chunk_rows: int
) -> tuple[Iterator[pa.RecordBatch], int | None]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if file_format(path) == "parquet":
            handle = pq.ParquetFile(path)
            return handle.iter_batches(batch_size=chunk_rows), handle.metadata.num_rows
        types = {
            f.name: (pa.string() if f.kind == "categorical" else pa.float64())
            for f in schema.features
        }
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=max(1 << 20, chunk_rows * 64)),
            convert_options=pacsv.ConvertOptions(column_types=types),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{path}: cannot read it as {file_format(path)}") from exc
    return _checked(reader, path, chunk_rows), None


def _checked(
    reader: Iterator[pa.RecordBatch], path: Path, chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    # pyarrow's CSV reader yields byte-sized blocks: cut them to at most chunk_rows rows
    import pyarrow as pa

    try:
        for block in reader:
            for start in range(0, block.num_rows, chunk_rows):
                yield block.slice(start, chunk_rows)
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: not valid CSV ({str(exc).splitlines()[0]})") from exc


def _writer(path: Path, kind: FileFormat, schema: pa.Schema) -> Any:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if kind == "parquet":
        return pq.ParquetWriter(path, schema)
    return pacsv.CSVWriter(path, schema)
