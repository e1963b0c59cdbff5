"""Read the YAML and JSON documents users and other tools write, with one-line errors.

Every user document (params, manifests, policies, reports, event payloads) is
parsed and validated here: a syntax error names ``file:LINE``; a validation
error names the file, the line where the parser kept it and the field path,
never pydantic's own dump. Files the toolkit itself wrote for itself (caches,
queues) may be read with plain ``json``: an error there is an internal error.
"""

from __future__ import annotations

from mlops_gitops.documents.invalid import (
    DOCUMENT,
    PARAMS,
    POLICY,
    RECORD,
    SECTION,
    Below,
    Lines,
    RoundTripLines,
    Wording,
    describe_validation_error,
    format_loc,
    has_item,
    validate,
    validate_yaml,
)
from mlops_gitops.documents.read import (
    Document,
    Loc,
    describe_yaml_error,
    parse_json,
    parse_json_lines,
    parse_yaml,
    parse_yaml_document,
    parse_yaml_roundtrip,
    read_json,
    read_text,
    read_yaml,
    yaml_roundtrip,
)

__all__ = [
    "DOCUMENT",
    "PARAMS",
    "POLICY",
    "RECORD",
    "SECTION",
    "Below",
    "Document",
    "Lines",
    "Loc",
    "RoundTripLines",
    "Wording",
    "describe_validation_error",
    "describe_yaml_error",
    "format_loc",
    "has_item",
    "parse_json",
    "parse_json_lines",
    "parse_yaml",
    "parse_yaml_document",
    "parse_yaml_roundtrip",
    "read_json",
    "read_text",
    "read_yaml",
    "validate",
    "validate_yaml",
    "yaml_roundtrip",
]
