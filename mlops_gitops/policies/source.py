"""Policy YAML files read with the line of every value, validated with pydantic.

Policy, roles and waivers files are only read by the toolkit (never edited),
so they are parsed with libyaml's composer, which keeps the position of every
node at a tenth of the cost of a round-trip parse; a validation error is
turned into one line naming ``file:line``, the field path and the rule id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mlops_gitops.errors import MlopsError

M = TypeVar("M", bound=BaseModel)
Loc = Sequence[str | int]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyError(MlopsError):
    """A policy, roles, waivers or evidence file is not valid, or a rule failed to run."""


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its data and the node tree that knows every line."""

    origin: str
    data: Any
    node: yaml.Node | None

    def line_of(self, loc: Loc) -> int:
        """Return the 1-based line of the deepest node on ``loc`` that exists."""
        node = self.node
        if node is None:
            return 1
        for key in loc:
            child = _child(node, key)
            if child is None:
                break
            node = child
        return int(node.start_mark.line) + 1

    def is_block(self, loc: Loc) -> bool:
        """Return whether the scalar at ``loc`` is a block scalar (``|`` or ``>``)."""
        node = self.node
        for key in loc:
            node = _child(node, key) if node is not None else None
        return isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")

    def key_line(self, loc: Loc) -> int:
        """Return the line of the mapping key at the end of ``loc`` (for unknown fields)."""
        parent = self.node
        for key in loc[:-1]:
            parent = _child(parent, key) if parent is not None else None
        if isinstance(parent, yaml.MappingNode):
            for key_node, _ in parent.value:
                if key_node.value == loc[-1]:
                    return int(key_node.start_mark.line) + 1
        return self.line_of(loc)


def _child(node: yaml.Node, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(key):
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None


def parse_document(text: str, origin: str) -> Document:
    """Parse YAML ``text``; ``origin`` names the file in error messages.

    Raises:
        PolicyError: the text is not valid YAML (the message names ``origin:LINE``).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{origin}{line}: not valid YAML ({exc.problem or exc.context})") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{origin}: not valid YAML ({' '.join(str(exc).split())})") from exc
    except ValueError as exc:  # a scalar YAML resolves to a type it cannot build (a bad date)
        bad = _unbuildable(node) if node is not None else None
        where = f":{bad.start_mark.line + 1} {bad.value!r}" if bad is not None else ""
        raise PolicyError(f"{origin}{where}: not a valid value") from exc
    finally:
        loader.dispose()
    return Document(origin=origin, data=data, node=node)


def _unbuildable(node: yaml.Node) -> yaml.ScalarNode | None:
    """Return the first scalar below ``node`` that the safe constructor cannot build."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except ValueError:
            return node
        return None
    children = (
        [n for pair in node.value for n in pair]
        if isinstance(node, yaml.MappingNode)
        else list(node.value)
        if isinstance(node, yaml.SequenceNode)
        else []
    )
    for child in children:
        found = _unbuildable(child)
        if found is not None:
            return found
    return None


def read_document(path: Path, origin: str) -> Document:
    """Read and parse the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"{origin}: file not found") from exc
    return parse_document(text, origin)


def validate(model: type[M], doc: Document, *, data: Any = None, loc: Loc = ()) -> M:
    """Validate ``doc`` (or ``data`` found at ``loc`` in it) as ``model``.

    Raises:
        PolicyError: one line with ``file:line``, the field path, the item id and the fix.
    """
    value = doc.data if data is None else data
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise PolicyError(describe_error(exc, doc, value, loc)) from exc


def describe_error(exc: ValidationError, doc: Document, value: Any, prefix: Loc = ()) -> str:
    """Return the one-line message of the first error of ``exc``."""
    error = exc.errors(include_url=False)[0]
    path, item = _data_path(value, error["loc"])
    full = [*prefix, *path]
    kind = error["type"]
    if kind == "extra_forbidden":
        line = doc.key_line(full)
        text = "unknown field; remove it or fix its spelling"
    elif kind == "missing":
        line = doc.line_of(full)
        text = "required field is missing"
    else:
        line = doc.line_of(full)
        text = _lower_first(str(error["msg"]).removeprefix("Value error, "))
    if item is not None:
        label, start = item
        where = f"{label} {format_loc(path[start:])}".rstrip()
    else:
        where = format_loc(full)
    return f"{doc.origin}:{line} {where}: {text}" if where else f"{doc.origin}:{line}: {text}"


def _data_path(
    value: Any, loc: Sequence[str | int]
) -> tuple[list[str | int], tuple[str, int] | None]:
    """Keep the parts of a pydantic ``loc`` that exist in the data (drop union tags).

    Also return the label of the innermost list item with an ``id`` (``rule 'x'``)
    and where the path below it starts.
    """
    path: list[str | int] = []
    item: tuple[str, int] | None = None
    current = value
    for index, key in enumerate(loc):
        if has_item(current, key):
            current = current[key]
        elif index == len(loc) - 1 and isinstance(current, dict):
            path.append(key)
            break
        else:
            continue
        path.append(key)
        if (
            isinstance(key, int)
            and isinstance(current, dict)
            and isinstance(current.get("id"), str)
        ):
            noun = str(path[-2]).removesuffix("s") if len(path) > 1 else "item"
            item = (f"{noun} '{current['id']}'", len(path))
    return path, item


def has_item(container: Any, key: str | int) -> bool:
    """Return whether ``container[key]`` exists (a mapping key or a list index)."""
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container)


def format_loc(loc: Loc) -> str:
    """Render a field path as ``rules[0].where.environments``."""
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
