"""Data quality: the pandera schema from params, the validation report, PII protection."""

from __future__ import annotations

from mlops_gitops.quality.pii import (
    PII_SALT_ENV,
    PiiAction,
    PiiLeak,
    collect_pii_values,
    find_pii_leaks,
    protect_pii,
    resolve_salt,
)
from mlops_gitops.quality.schema import ColumnRule, SchemaSettings, build_schema
from mlops_gitops.quality.validate import (
    ValidationFailed,
    ValidationReport,
    validate_dataset,
    validate_frame,
)

__all__ = [
    "PII_SALT_ENV",
    "ColumnRule",
    "PiiAction",
    "PiiLeak",
    "SchemaSettings",
    "ValidationFailed",
    "ValidationReport",
    "build_schema",
    "collect_pii_values",
    "find_pii_leaks",
    "protect_pii",
    "resolve_salt",
    "validate_dataset",
    "validate_frame",
]
