"""Validate a dataset against the ``schema`` section and write the validation report.

The report (``reports/validation.json``, :class:`ValidationReport`) says
whether the data passed, every check that ran with its outcome, and each
failure with its column, check, expectation, count, example values and
example row numbers. Examples never hold PII: failures of PII columns are
redacted, and so is any example that contains a value of a PII column.
A blocking failure (``schema.fail_on_error``) raises :class:`ValidationFailed`
after the report is written, so the pipeline stops with a one-line reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
import pandera.pandas as pa
from pydantic import BaseModel, ConfigDict

from mlops_gitops.errors import DataError
from mlops_gitops.params import parse_section
from mlops_gitops.quality.schema import (
    BuiltSchema,
    CheckRef,
    DatasetKeys,
    SchemaSettings,
    build_schema,
)

log = logging.getLogger(__name__)

MAX_EXAMPLES = 5
REDACTED = "<redacted>"
Example = str | int | float | bool | None


class ValidationFailed(DataError):
    """The dataset failed a blocking validation check."""


class CheckResult(BaseModel):
    """One check that ran: the column, the check's name, what it expects, the outcome."""

    model_config = ConfigDict(frozen=True)

    column: str
    check: str
    expected: str
    passed: bool


class Failure(BaseModel):
    """One failed check: how many values failed, a few examples and their row numbers."""

    model_config = ConfigDict(frozen=True)

    column: str
    check: str
    expected: str
    count: int
    examples: list[Example]
    rows: list[int]

    def describe(self) -> str:
        """Return this failure in a few words: the column, what was expected, what was found."""
        if self.check == "present":
            return f"{self.column}: column is missing"
        if self.check == "declared":
            return f"{self.column}: column not declared in schema.columns (schema.strict is on)"
        found = [repr(e) for e in self.examples if e != REDACTED][:2]
        such_as = f", e.g. {', '.join(found)}" if found else ""
        return (
            f"{self.column} {self.check}: expected {self.expected}, {self.count} failing{such_as}"
        )


class ValidationReport(BaseModel):
    """The content of ``reports/validation.json`` (format version 1).

    Fields: ``version``; ``dataset`` (the file validated); ``passed``;
    ``blocking`` (failed and ``schema.fail_on_error``); ``rows``, ``columns``
    (counts); ``checks`` (every check that ran: column, check, expected,
    passed); ``failures`` (column, check, expected, count, up to 5 examples,
    up to 5 row numbers); ``missing`` (missing values per column, where any);
    ``pii_columns``, ``sensitive_columns`` (as declared); ``unchecked_columns``
    (in the data but not in ``schema.columns``); ``reason`` (the one-line
    outcome when it failed, else null). Check names: present, declared,
    dtype, nullable, unique, min, max, allowed, pattern.
    """

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    dataset: str
    passed: bool
    blocking: bool
    rows: int
    columns: int
    checks: list[CheckResult]
    failures: list[Failure]
    missing: dict[str, int]
    pii_columns: list[str]
    sensitive_columns: list[str]
    unchecked_columns: list[str]
    reason: str | None

    def summary(self) -> str:
        """Return the one-line outcome: passed, or which checks failed."""
        if self.passed:
            return f"{self.dataset}: all {len(self.checks)} checks passed ({self.rows} rows)"
        shown = "; ".join(f.describe() for f in self.failures[:3])
        more = f"; and {len(self.failures) - 3} more" if len(self.failures) > 3 else ""
        return f"{self.dataset}: {len(self.failures)} check(s) failed: {shown}{more}"


def validate_frame(
    frame: pd.DataFrame,
    *,
    data: Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
    dataset: str = "dataset",
) -> ValidationReport:
    """Check ``frame`` against the ``schema`` section and return the report.

    Bad data gives a report with ``passed: false``; only invalid params raise.
    """
    settings = parse_section(SchemaSettings, schema, "schema")
    keys = parse_section(DatasetKeys, data, "data")
    built = build_schema(settings, keys, columns=[str(c) for c in frame.columns])
    failures = _run(built, _widen(frame, settings), settings, _pii_values(frame, settings.pii))
    failed = {(f.column, f.check) for f in failures}
    checks = [
        CheckResult(**vars(ref), passed=(ref.column, ref.check) not in failed)
        for ref in built.checks
    ]
    declared = set(built.schema.columns)
    report = ValidationReport(
        dataset=dataset,
        passed=not failures,
        blocking=bool(failures) and settings.fail_on_error,
        rows=len(frame),
        columns=frame.shape[1],
        checks=checks,
        failures=failures,
        missing={str(c): int(n) for c, n in frame.isna().sum().items() if n},
        pii_columns=list(settings.pii),
        sensitive_columns=list(settings.sensitive),
        unchecked_columns=[str(c) for c in frame.columns if c not in declared],
        reason=None,
    )
    return report if report.passed else report.model_copy(update={"reason": report.summary()})


def validate_dataset(
    path: str | os.PathLike[str],
    report: str | os.PathLike[str],
    *,
    data: Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
) -> ValidationReport:
    """Validate the Parquet file at ``path``, write the report to ``report``.

    Raises:
        ValidationFailed: a check failed and ``schema.fail_on_error`` is true
            (the report is written first and says why).
        DataError: the file is missing or not Parquet.
    """
    from mlops_gitops.stage import write_json

    frame = _read(Path(path))
    result = validate_frame(frame, data=data, schema=schema, dataset=str(path))
    write_json(report, result.model_dump(mode="json"))
    if result.blocking:
        raise ValidationFailed(f"{result.reason}; see {report}")
    if not result.passed:
        log.warning("%s (not blocking: schema.fail_on_error is false)", result.reason)
    else:
        log.info("%s", result.summary())
    return result


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: not found; run the ingest stage first (dvc repro)") from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a valid Parquet file") from exc


def _widen(frame: pd.DataFrame, settings: SchemaSettings) -> pd.DataFrame:
    # Integers and booleans are valid floats (a CSV column without decimals
    # reads as int64), and whole floats with gaps are integers with missing
    # values (a CSV int column with a blank reads as float64); text is neither
    # and stays as it is, to fail its dtype check.
    widened = frame.copy()
    for name, rule in settings.columns.items():
        if name not in frame.columns:
            continue
        column = frame[name]
        is_int = pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column)
        if rule.type == "float" and is_int:
            widened[name] = column.astype("float64")
        elif rule.type == "int" and pd.api.types.is_float_dtype(column) and _is_whole(column):
            widened[name] = column.astype("Int64")
    return widened


def _is_whole(column: pd.Series) -> bool:
    values = column.dropna()
    return bool(((values % 1) == 0).all())


def _run(
    built: BuiltSchema, frame: pd.DataFrame, settings: SchemaSettings, pii: frozenset[str]
) -> list[Failure]:
    try:
        built.schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failures(built, exc.failure_cases, settings, pii)
    return []


def _failures(
    built: BuiltSchema, cases: pd.DataFrame, settings: SchemaSettings, pii: frozenset[str]
) -> list[Failure]:
    grouped: dict[CheckRef, list[tuple[object, object]]] = {}
    for row in cases.itertuples(index=False):
        column, value = row.column, row.failure_case
        if pd.isna(column) or row.check in ("column_in_dataframe", "column_in_schema"):
            column, value = row.failure_case, None
        ref = built.resolve(str(column), str(row.check))
        grouped.setdefault(ref, []).append((value, row.index))
    wrong_type = {ref.column for ref in grouped if ref.check == "dtype"}
    return [
        Failure(
            column=ref.column,
            check=ref.check,
            expected=ref.expected,
            count=len(items),
            examples=_examples([v for v, _ in items], redact=ref.column in settings.pii, pii=pii),
            rows=_rows([i for _, i in items]),
        )
        for ref, items in grouped.items()
        # on a column of the wrong type, value checks only repeat the dtype failure
        if not (ref.column in wrong_type and ref.check != "dtype")
    ]


def _examples(values: list[object], *, redact: bool, pii: frozenset[str]) -> list[Example]:
    distinct: list[Example] = []
    for value in values:
        if value is None:
            continue  # a missing column has no example value
        example = _plain(value)
        if example not in distinct:
            distinct.append(example)
            if len(distinct) == MAX_EXAMPLES:
                break
    shown: list[Example] = []
    for example in distinct:
        safe = REDACTED if redact or _holds_pii(example, pii) else example
        if safe not in shown:
            shown.append(safe)
    return shown


def _plain(value: object) -> Example:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        plain = item()
        if isinstance(plain, bool | int | float | str):
            return plain
    return str(value)


def _holds_pii(example: Example, pii: frozenset[str]) -> bool:
    if not isinstance(example, str) or not pii:
        return False
    return example in pii or any(value in example for value in pii if len(value) >= 4)


def _pii_values(frame: pd.DataFrame, columns: list[str]) -> frozenset[str]:
    values: set[str] = set()
    for name in columns:
        if name in frame.columns:
            values.update(str(v) for v in frame[name].dropna().unique())
    return frozenset(values)


def _rows(indexes: list[object]) -> list[int]:
    rows = {int(i) for i in indexes if isinstance(i, int | float) and not pd.isna(i)}
    return sorted(rows)[:MAX_EXAMPLES]
