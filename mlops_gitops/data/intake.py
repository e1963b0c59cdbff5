"""Ingest: the first write of the dataset, with its PII columns already protected.

:func:`ingest` reads the source that the ``data`` section names (through a
connector), checks the raw values of the ``schema.pii`` columns in memory
(:func:`mlops_gitops.quality.validate_frame`), drops, hashes or masks those
columns (``schema.pii_action``, :func:`mlops_gitops.quality.protect_pii`),
and only then writes ``data/raw/dataset.parquet`` and the PII checks'
outcome (``reports/pii_validation.json``). So no DVC output, cache or remote
ever holds a PII value in clear; the validate stage merges the PII outcome
into ``reports/validation.json`` and stops the pipeline on a blocking failure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops.data.connectors import connector_name, read_dataset, write_parquet
from mlops_gitops.data.settings import DataSettings
from mlops_gitops.outputs import write_json
from mlops_gitops.params import parse_section
from mlops_gitops.quality import (
    PiiAction,
    SchemaSettings,
    protect_pii,
    resolve_salt,
    validate_frame,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    """What :func:`ingest` wrote: the protected table, its shape, and the PII outcome."""

    path: Path
    rows: int
    columns: int
    connector: str
    pii_action: PiiAction
    pii_report: Path
    pii_passed: bool


def ingest(
    *,
    raw: str | os.PathLike[str],
    pii_report: str | os.PathLike[str],
    data: DataSettings | Mapping[str, object],
    schema: SchemaSettings | Mapping[str, object],
) -> IngestResult:
    """Read the source, check and protect its PII columns in memory, then write ``raw``.

    The PII checks' outcome is written to ``pii_report``; a failed check does
    not stop ingest (the protected table holds no PII): the validate stage
    reads the outcome and stops the pipeline when it blocks.

    Raises:
        ConfigError: a params section is invalid, or hashing has no salt.
        DataError: the source cannot be read, or lacks a declared PII column.
    """

    settings = parse_section(DataSettings, data, "data")
    schema_settings = parse_section(SchemaSettings, schema, "schema")
    action = schema_settings.pii_action
    salt = resolve_salt() if action == "hash" else None
    frame = read_dataset(settings)
    source = settings.source.split("?", 1)[0]  # a query string may hold a token
    keys = settings.model_dump()
    checked = validate_frame(frame, data=keys, schema=schema_settings, dataset=source, part="pii")
    protected = protect_pii(frame, schema_settings.pii, action, salt=salt)
    report = write_json(pii_report, checked.model_dump(mode="json"))
    path = write_parquet(protected, raw)
    if checked.passed:
        log.info("PII columns checked and %s: %s", action, ", ".join(schema_settings.pii) or "none")
    else:
        log.warning("%s (the validate stage decides whether it blocks)", checked.reason)
    return IngestResult(
        path=path,
        rows=len(protected),
        columns=protected.shape[1],
        connector=connector_name(settings),
        pii_action=action,
        pii_report=report,
        pii_passed=checked.passed,
    )
