"""Rendering helpers shared by the command modules: JSON and text tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (dataclasses and pydantic models included)."""
    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=False, default=str))


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, pydantic models, paths and tuples into JSON types."""
    import dataclasses
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
