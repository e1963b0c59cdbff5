"""Audit exports for auditors: the events as CSV and as JSON, and reading them back.

Both files carry exactly the fields of :class:`AuditEvent`; an absent value
is an empty CSV cell or a JSON null. Reading an export gives back the
same events that ``mlops audit --json`` reports.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_gitops.audit.timeline import FIELDS, AuditError, AuditEvent
from mlops_gitops.documents import parse_json
from mlops_gitops.roundtrip import write_atomic

EXPORT_SCHEMA = "mlops-gitops/audit/1"


def render_csv(events: Sequence[AuditEvent]) -> str:
    """Return the events as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for event in events:
        writer.writerow(["" if v is None else v for v in (getattr(event, f) for f in FIELDS)])
    return buffer.getvalue()


def render_json(events: Sequence[AuditEvent]) -> str:
    """Return the events as a JSON document: the export schema and the events."""
    return json.dumps(export_document(events), indent=2) + "\n"


def export_document(events: Sequence[AuditEvent]) -> dict[str, Any]:
    """Return the JSON export of the events as a value: the export schema and the events."""
    return {"schema": EXPORT_SCHEMA, "events": [event_json(e) for e in events]}


def event_json(event: AuditEvent) -> dict[str, Any]:
    """Return one event as a JSON object (every field, absent ones null)."""
    return {name: getattr(event, name) for name in FIELDS}


def write_exports(
    events: Sequence[AuditEvent], folder: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Write ``audit.csv`` and ``audit.json`` into ``folder``; return their paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = target / "audit.csv", target / "audit.json"
    write_atomic(csv_path, render_csv(events))
    write_atomic(json_path, render_json(events))
    return csv_path, json_path


def read_export(path: str | os.PathLike[str]) -> list[AuditEvent]:
    """Read an ``audit.csv`` or ``audit.json`` export back into events.

    Raises:
        AuditError: the file is missing or is not an audit export.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"{file}: cannot read the audit export ({exc.strerror})") from exc
    if file.suffix == ".csv":
        return _from_csv(text, file)
    return _from_json(text, file)


def _from_csv(text: str, file: Path) -> list[AuditEvent]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != FIELDS:
        raise AuditError(f"{file}:1: header must be {','.join(FIELDS)}")
    events: list[AuditEvent] = []
    for line, row in enumerate(reader, start=2):
        values: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        events.append(_event(values, f"{file}:{line}"))
    return events


def _from_json(text: str, file: Path) -> list[AuditEvent]:
    document = parse_json(text, str(file), error=AuditError)
    if not isinstance(document, dict) or document.get("schema") != EXPORT_SCHEMA:
        raise AuditError(f"{file}: not an audit export; expected schema '{EXPORT_SCHEMA}'")
    items = document.get("events")
    if not isinstance(items, list):
        raise AuditError(f"{file} events: expected a list of events")
    return [_event(item, f"{file} events[{i}]") for i, item in enumerate(items)]


def _event(values: Any, where: str) -> AuditEvent:
    if not isinstance(values, dict) or set(values) != set(FIELDS):
        raise AuditError(f"{where}: expected the fields {', '.join(FIELDS)}")
    try:
        seq = int(values["seq"])
    except (TypeError, ValueError) as exc:
        raise AuditError(f"{where} seq: expected an integer, got {values['seq']!r}") from exc
    return AuditEvent(**{**values, "seq": seq})
