"""Field paths of the evidence bundle: lookups in its schema and in its data.

Lint uses :func:`schema_at` to check that every field a rule reads exists;
loading a rule uses :func:`probe_activation` to evaluate its condition once
on example values of the schema's types, which finds CEL type errors
(``double`` compared with ``string``, ``int`` plus ``double``) before any
real bundle is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from mlops_gitops.policies.bundle import bundle_json_schema
from mlops_gitops.policies.engine import ABSENT, ANY_INDEX, FieldPath
from mlops_gitops.policies.source import has_item

FREE: dict[str, Any] = {"free": True}
_MISSING = object()
_EXAMPLE_TIME = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


@cache
def _schema() -> dict[str, Any]:
    return bundle_json_schema()


def top_level_fields() -> tuple[str, ...]:
    """Return the names of the bundle's top-level fields (the rules' variables)."""
    return tuple(name for name in _schema()["properties"] if name != "waivers")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = _schema()["$defs"][name]
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        return _resolve(options[0]) if len(options) == 1 else FREE
    if not node.keys() & {"type", "properties", "enum", "const"}:
        return FREE  # an empty schema (JsonValue) accepts anything
    return node


@cache
def schema_at(path: FieldPath) -> dict[str, Any] | None:
    """Return the schema of the field at ``path``; None when the bundle has no such field.

    Below a free-form value (params, JSON reports) every path exists: the
    result is :data:`FREE`.
    """
    node: dict[str, Any] = _schema()
    for key in path:
        node = _resolve(node)
        if node is FREE:
            return FREE
        child = _child_schema(node, key)
        if child is None:
            return None
        node = child
    return _resolve(node)


def _child_schema(node: dict[str, Any], key: str | int) -> dict[str, Any] | None:
    if node.get("type") == "array":
        items: dict[str, Any] = node.get("items", FREE)
        return items if isinstance(key, int) else None
    if isinstance(key, str) and key in node.get("properties", {}):
        prop: dict[str, Any] = node["properties"][key]
        return prop
    extra = node.get("additionalProperties")
    if extra is True:
        return FREE
    if isinstance(extra, dict):
        return extra
    return None


def example_of(node: dict[str, Any]) -> Any:
    """Return an example value of the schema ``node`` (objects get every property)."""
    node = _resolve(node)
    kind = node.get("type")
    if "enum" in node or "const" in node:
        return node.get("enum", [node.get("const")])[0]
    examples: dict[str, Any] = {
        "number": 0.5,
        "integer": 1,
        "boolean": True,
        "string": _EXAMPLE_TIME if node.get("format") == "date-time" else "x",
    }
    if kind in examples:
        return examples[kind]
    if kind == "array":
        return [example_of(node.get("items", {}))]
    return {key: example_of(prop) for key, prop in node.get("properties", {}).items()}


def probe_activation(
    paths: Iterable[FieldPath], rule_vars: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Return example variables that hold every path of ``paths``.

    None when a path reaches a free-form value or is not in the schema:
    its type is unknown, so no probe is possible.
    """
    data: dict[str, Any] = {"vars": dict(rule_vars)}
    for path in paths:
        if path[0] == "vars":
            continue
        node = schema_at(path)
        if node is None or node is FREE:
            return None
        _put(data, path, example_of(node))
    return data


def _put(data: dict[str, Any], path: FieldPath, value: Any) -> None:
    current: Any = data
    for index, key in enumerate(path):
        last = index == len(path) - 1
        if isinstance(current, list):
            if not current:
                current.append({})
            current = current[0]
            continue
        if last:
            current.setdefault(key, value)
            return
        nxt = path[index + 1]
        current = current.setdefault(key, [] if isinstance(nxt, int) else {})


def value_at(data: Any, path: FieldPath, default: Any = ABSENT) -> Any:
    """Return the value at ``path`` in ``data`` (a list for ``[*]``), or ``default``."""
    current = data
    for key in path:
        if key == ANY_INDEX and isinstance(current, list):
            return current
        if has_item(current, key):
            current = current[key]
        else:
            return default
    return current


def is_absent(data: Any, path: FieldPath) -> bool:
    """Return whether ``path`` does not exist in ``data``."""
    return value_at(data, path, _MISSING) is _MISSING
