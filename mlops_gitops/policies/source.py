"""Policy YAML files read with the line of every value, validated with pydantic.

Policy, roles and waivers files are only read by the toolkit (never edited),
so they are parsed with libyaml's composer (:func:`mlops_gitops.documents.parse_yaml_document`),
which keeps the position of every node at a tenth of the cost of a round-trip
parse; a validation error is one line naming ``file:line``, the field path and
the rule id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from mlops_gitops import documents
from mlops_gitops.documents import Document, Loc, format_loc, has_item
from mlops_gitops.errors import MlopsError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "Document",
    "PolicyError",
    "format_loc",
    "has_item",
    "parse_document",
    "read_document",
    "validate",
]


class PolicyError(MlopsError):
    """A policy, roles, waivers or evidence file is not valid, or a rule failed to run."""


def parse_document(text: str, origin: str) -> Document:
    """Parse YAML ``text``; ``origin`` names the file in error messages.

    Raises:
        PolicyError: the text is not valid YAML (the message names ``origin:LINE``).
    """
    return documents.parse_yaml_document(text, origin, error=PolicyError)


def read_document(path: Path, origin: str) -> Document:
    """Read and parse the YAML file at ``path``."""
    return parse_document(documents.read_text(path, origin, error=PolicyError), origin)


def validate(model: type[M], doc: Document, *, data: Any = None, loc: Loc = ()) -> M:
    """Validate ``doc`` (or ``data`` found at ``loc`` in it) as ``model``.

    Raises:
        PolicyError: one line with ``file:line``, the field path, the item id and the fix.
    """
    value = doc.data if data is None else data
    return documents.validate(
        model,
        value,
        doc.origin,
        error=PolicyError,
        lines=documents.Below(doc, loc),
        prefix=loc,
        wording=documents.POLICY,
    )
