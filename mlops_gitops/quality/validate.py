"""Validate a dataset against the ``schema`` section and write the validation report.

In the pipeline, validation runs in two places. Ingest checks the raw values
of the ``schema.pii`` columns in memory (:func:`validate_frame`) and writes that
outcome before it protects them; the validate stage checks every other column
of the protected table and merges both into ``reports/validation.json``
(:func:`validate_protected`; the report format is in ``quality.report``).
Examples never hold PII: failures of PII columns are redacted, and so is any
example that contains a value of a PII column the check could see.
A blocking failure (``schema.fail_on_error``) raises :class:`ValidationFailed`
after the report is written, so the pipeline stops with a one-line reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from mlops_gitops.errors import DataError
from mlops_gitops.outputs import write_json
from mlops_gitops.params import parse_section
from mlops_gitops.quality.pandera_schema import (
    BuiltSchema,
    CheckRef,
    DatasetKeys,
    SchemaPart,
    SchemaSettings,
    build_schema,
    is_in_part,
)
from mlops_gitops.quality.report import (
    MAX_EXAMPLES,
    REDACTED,
    CheckResult,
    Example,
    Failure,
    ValidationReport,
    read_report,
)

log = logging.getLogger(__name__)


class ValidationFailed(DataError):
    """The dataset failed a blocking validation check."""


def validate_frame(
    frame: pd.DataFrame,
    *,
    data: Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
    dataset: str = "dataset",
    part: SchemaPart = "all",
    task: str | None = None,
) -> ValidationReport:
    """Check the ``part`` of ``frame``'s columns against the ``schema`` section; return the report.

    ``part="pii"`` checks the raw values of the ``schema.pii`` columns alone
    (ingest does, in memory, before it protects them): ``rows`` and
    ``columns`` still count the whole frame, and examples are redacted. Bad
    data gives a report with ``passed: false``; only invalid params raise.
    An undeclared label is checked as ``task`` (``model.task``) types it.
    """
    settings, keys = _sections(data, schema)
    return _validate(frame, settings, keys, dataset=dataset, part=part, task=task)


def validate_protected(
    frame: pd.DataFrame,
    pii: ValidationReport,
    *,
    data: Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
    dataset: str = "dataset",
    task: str | None = None,
) -> ValidationReport:
    """Check every column but ``schema.pii`` of the table ingest wrote, with ingest's PII checks.

    The PII columns of ``frame`` are dropped, hashed or masked, so their
    outcome is the one ``pii`` (:func:`validate_frame` of the raw PII part)
    recorded; the merged report reads as one validation of the dataset.

    Raises:
        DataError: ``pii`` is not the PII report of this table and schema.
    """
    settings, keys = _sections(data, schema)
    _check_pii_report(pii, settings, rows=len(frame))
    rest = _validate(frame, settings, keys, dataset=dataset, part="protected", task=task)
    failures = [*pii.failures, *rest.failures]
    report = rest.model_copy(
        update={
            "passed": not failures,
            "blocking": bool(failures) and settings.fail_on_error,
            "columns": pii.columns,
            "checks": [*pii.checks, *rest.checks],
            "failures": failures,
            "missing": {**pii.missing, **rest.missing},
        }
    )
    return report if report.passed else report.model_copy(update={"reason": report.summary()})


def validate_dataset(
    *,
    raw: str | os.PathLike[str],
    validation_report: str | os.PathLike[str],
    pii_report: str | os.PathLike[str] | None = None,
    data: Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
    task: str | None = None,
) -> ValidationReport:
    """Validate the Parquet file ``raw``, write the report to ``validation_report``.

    With ``pii_report`` (what ingest wrote), ``raw`` is the protected table
    and the PII columns' outcome comes from that report
    (:func:`validate_protected`); without it every column of ``raw`` is
    checked as it is.

    Raises:
        ValidationFailed: a check failed and ``schema.fail_on_error`` is true
            (the report is written first and says why).
        DataError: a file is missing or invalid.
    """

    frame = _read(Path(raw))
    if pii_report is None:
        result = validate_frame(frame, data=data, schema=schema, dataset=str(raw), task=task)
    else:
        pii = read_report(pii_report)
        result = validate_protected(
            frame, pii, data=data, schema=schema, dataset=str(raw), task=task
        )
    write_json(validation_report, result.model_dump(mode="json"))
    if result.blocking:
        raise ValidationFailed(f"{result.reason}; see {validation_report}")
    if not result.passed:
        log.warning("%s (not blocking: schema.fail_on_error is false)", result.reason)
    else:
        log.info("%s", result.summary())
    return result


def _sections(
    data: Mapping[str, object], schema: SchemaSettings | Mapping[str, object]
) -> tuple[SchemaSettings, DatasetKeys]:
    return parse_section(SchemaSettings, schema, "schema"), parse_section(DatasetKeys, data, "data")


def _validate(
    frame: pd.DataFrame,
    settings: SchemaSettings,
    keys: DatasetKeys,
    *,
    dataset: str,
    part: SchemaPart,
    task: str | None,
) -> ValidationReport:
    from mlops_gitops.tasks import DEFAULT_TASK, label_type, load_task

    checked = frame[[c for c in frame.columns if is_in_part(str(c), settings, part)]]
    built = build_schema(
        settings,
        keys,
        columns=[str(c) for c in checked.columns],
        part=part,
        label_type=label_type(load_task(task or DEFAULT_TASK)),
    )
    failures = _run(built, _widen(checked, settings), settings, _pii_values(frame, settings.pii))
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
        missing={str(c): int(n) for c, n in checked.isna().sum().items() if n},
        pii_columns=list(settings.pii),
        sensitive_columns=list(settings.sensitive),
        unchecked_columns=[str(c) for c in checked.columns if c not in declared],
        reason=None,
    )
    return report if report.passed else report.model_copy(update={"reason": report.summary()})


def _check_pii_report(pii: ValidationReport, settings: SchemaSettings, *, rows: int) -> None:
    if pii.pii_columns != list(settings.pii) or pii.rows != rows:
        raise DataError(
            f"the PII report checked {pii.rows} rows of {pii.pii_columns} but the table has "
            f"{rows} rows and schema.pii is {list(settings.pii)}; rerun ingest (dvc repro)"
        )


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
