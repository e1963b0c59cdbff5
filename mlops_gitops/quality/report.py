"""The validation report: ``reports/validation.json`` and ingest's PII report.

Both files hold a :class:`ValidationReport`. Ingest writes the outcome of
the PII columns' checks on their raw values (``reports/pii_validation.json``);
the validate stage merges it with the checks of every other column into
``reports/validation.json``, which the gate's ``validation-passed`` rule reads.
Examples never hold PII: failures of PII columns are redacted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_gitops.errors import DataError

MAX_EXAMPLES = 5
REDACTED = "<redacted>"
Example = str | int | float | bool | None


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
    """The content of ``reports/validation.json`` (format version 1), and of ingest's PII report.

    Fields: ``version``; ``dataset`` (the file validated; the source, in the
    PII report); ``passed``; ``blocking`` (failed and ``schema.fail_on_error``);
    ``rows``, ``columns`` (counts of the dataset as read, PII columns
    included); ``checks`` (every check that ran: column, check, expected,
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


def read_report(path: str | os.PathLike[str]) -> ValidationReport:
    """Read a validation report (``reports/validation.json`` or ingest's PII report).

    Raises:
        DataError: the file is missing, not JSON, or not a report.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: not found; run the stage that writes it (dvc repro)") from exc
    try:
        return ValidationReport.model_validate_json(text)
    except ValidationError as exc:  # the cause chain names the field
        raise DataError(
            f"{path}: not a validation report; rerun the stage that writes it (dvc repro --force)"
        ) from exc
