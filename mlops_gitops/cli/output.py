"""Rendering shared by the command modules: the one JSON renderer, and text tables.

Every ``--json`` output is :func:`echo_json`: indented by two spaces, keys in
their order, dataclasses, pydantic models, paths and sets converted on the
way (the encoder's ``default`` hook, so that large lists stay fast).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

import click


def echo_json(value: Any) -> None:
    """Print ``value`` as JSON (dataclasses and pydantic models included)."""
    click.echo(render_json(value))


def render_json(value: Any) -> str:
    """Return ``value`` as the JSON text :func:`echo_json` prints (no final newline)."""
    return json.dumps(value, indent=2, default=_encode)


def _encode(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, pydantic models, paths and tuples into JSON types."""
    from pathlib import PurePath

    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    return value


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a plain, aligned text table."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    click.echo(line.rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
