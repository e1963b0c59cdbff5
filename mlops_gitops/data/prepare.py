"""Prepare the validated raw dataset for training: types, then the split.

Reads ``data/raw/dataset.parquet``, whose PII columns ingest already
dropped, hashed or masked (``mlops_gitops.data.intake``), and the validation
report, to refuse data that failed validation; turns numeric columns into
float64, and writes ``train``, ``valid`` and ``test`` Parquet files. The
three files are written to temporary names first and renamed together. The
split report (``reports/split.json``) records how the rows were split (the
method, its column, whether it stratified, the fractions, seed and row
counts) so the test set can be audited.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlops_gitops.data.connectors import read_parquet, write_parquet
from mlops_gitops.data.settings import DataSettings, PrepareSettings
from mlops_gitops.data.split import Split, split_dataset
from mlops_gitops.documents import read_json
from mlops_gitops.errors import DataError
from mlops_gitops.outputs import write_json
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import DEFAULT_TASK, load_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepareResult:
    """What :func:`prepare_dataset` wrote: one file per set, its row count, how it split."""

    paths: dict[str, Path]
    rows: dict[str, int]
    split: dict[str, object]


def prepare_dataset(
    *,
    raw: str | os.PathLike[str],
    prepared_dir: str | os.PathLike[str],
    validation_report: str | os.PathLike[str] | None = None,
    split_report: str | os.PathLike[str] | None = None,
    data: DataSettings | Mapping[str, object],
    prepare: PrepareSettings | Mapping[str, object],
    task: str = DEFAULT_TASK,
) -> PrepareResult:
    """Split the protected table ``raw`` and write ``PREPARED_DIR/{train,valid,test}.parquet``.

    ``task`` (``model.task``) decides whether a random split stratifies on
    the label. With ``split_report``, how the rows were split is written there.

    Raises:
        DataError: the raw file or the report is missing, or the report says
            the data failed a blocking check.
        ConfigError: a params section is invalid.
    """
    data_settings = parse_section(DataSettings, data, "data")
    settings = parse_section(PrepareSettings, prepare, "prepare")
    if validation_report is not None:
        _check_report(Path(validation_report))
    label = data_settings.label
    frame = _numeric_as_float(read_parquet(raw), keep=(label,) if label else ())
    split = split_dataset(frame, label, settings=settings.split, task=task)
    rows = {name: len(part) for name, part in split.items()}
    method = _describe_split(settings, task, rows)
    paths = _write_split(split, Path(prepared_dir))
    if split_report is not None:
        write_json(split_report, method)
    log.info("split by %s: %s", method["by"], ", ".join(f"{k} {n}" for k, n in rows.items()))
    return PrepareResult(paths=paths, rows=rows, split=method)


def _describe_split(
    settings: PrepareSettings, task: str, rows: dict[str, int]
) -> dict[str, object]:
    split = settings.split
    stratified = split.by == "random" and split.stratify and load_task(task).stratifies
    return {
        "by": split.by,
        "column": split.column,
        "stratified": stratified,
        "fractions": {"train": split.train, "valid": split.valid, "test": split.test},
        "seed": split.seed,
        "rows": rows,
    }


def _check_report(path: Path) -> None:
    missing = "not found; run the validate stage first (dvc repro)"
    report = read_json(path, error=DataError, missing=missing, fix="rerun the validate stage")
    if report.get("blocking"):
        raise DataError(f"{path}: the raw data failed validation: {report.get('reason')}")
    if not report.get("passed", False):
        log.warning("preparing data that failed non-blocking checks: %s", report.get("reason"))


def _numeric_as_float(frame: pd.DataFrame, *, keep: tuple[str, ...]) -> pd.DataFrame:
    converted = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if name in keep:
            if pd.api.types.is_bool_dtype(column):
                converted[name] = column.astype("int64")
            continue
        numeric = pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        if numeric and column.dtype != "float64":
            converted[name] = column.astype("float64")
    return converted


def _write_split(split: Split, out_dir: Path) -> dict[str, Path]:
    staged: dict[str, tuple[Path, Path]] = {}
    try:
        for name, part in split.items():
            final = out_dir / f"{name}.parquet"
            staged[name] = (write_parquet(part, out_dir / f".{name}.parquet.staged"), final)
        for temp, final in staged.values():
            os.replace(temp, final)
    finally:
        for temp, _ in staged.values():
            temp.unlink(missing_ok=True)
    return {name: final for name, (_, final) in staged.items()}
