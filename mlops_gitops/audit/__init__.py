"""Audit: the event history read from Git, exportable for auditors.

Every registration, promotion, canary, rollback, deprecation, archive,
waiver change, approval and gate decision, in Git-graph order, built on
the registry's history (:mod:`mlops_gitops.registry`), the history of
``policies/waivers.yaml``, the approval tags and the gate notes. Exports
are ``audit.csv`` and ``audit.json``; :func:`read_export` reads them back.
"""

from __future__ import annotations

from mlops_gitops.audit.export import (
    EXPORT_SCHEMA,
    event_json,
    export_document,
    read_export,
    render_csv,
    render_json,
    write_exports,
)
from mlops_gitops.audit.timeline import (
    AUDIT_KINDS,
    FIELDS,
    AuditError,
    AuditEvent,
    collect_events,
    list_events,
)

__all__ = [
    "AUDIT_KINDS",
    "EXPORT_SCHEMA",
    "FIELDS",
    "AuditError",
    "AuditEvent",
    "collect_events",
    "event_json",
    "export_document",
    "list_events",
    "read_export",
    "render_csv",
    "render_json",
    "write_exports",
]
