"""Data quality: the pandera schema from params, the validation report, PII protection."""

from __future__ import annotations

from mlops_gitops.quality.pandera_schema import ColumnRule, SchemaPart, SchemaSettings, build_schema
from mlops_gitops.quality.pii import (
    PII_SALT_ENV,
    PiiAction,
    PiiLeak,
    PiiSearch,
    collect_pii_values,
    find_pii_leaks,
    protect_pii,
    resolve_salt,
)
from mlops_gitops.quality.report import ValidationReport, read_report
from mlops_gitops.quality.validate import (
    ValidationFailed,
    validate_dataset,
    validate_frame,
    validate_protected,
)

__all__ = [
    "PII_SALT_ENV",
    "ColumnRule",
    "PiiAction",
    "PiiLeak",
    "PiiSearch",
    "SchemaPart",
    "SchemaSettings",
    "ValidationFailed",
    "ValidationReport",
    "build_schema",
    "collect_pii_values",
    "find_pii_leaks",
    "protect_pii",
    "read_report",
    "resolve_salt",
    "validate_dataset",
    "validate_frame",
    "validate_protected",
]
