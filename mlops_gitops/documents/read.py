"""Parse YAML and JSON user documents; a syntax error names ``file:LINE``.

Three YAML readers, each for a reason: ruamel's safe loader (YAML 1.2, plain
data), ruamel's round trip (keeps lines and comments; what
:mod:`mlops_gitops.roundtrip` writes back) and libyaml's composer (keeps the
line of every node at a tenth of the round trip's cost).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops.errors import ConfigError, MlopsError

if TYPE_CHECKING:  # PyYAML stays out of the CLI's start-up
    import yaml

Loc = Sequence[str | int]
WIDTH = 4096


MISSING = "file not found"


def read_text(
    path: str | os.PathLike[str],
    origin: str = "",
    *,
    error: type[MlopsError] = ConfigError,
    missing: str = MISSING,
) -> str:
    """Return the text of the file at ``path``; ``origin`` (default: the path) names it.

    ``missing`` is what the error of an absent file says after the name: a
    file that a stage writes ends it with the stage to run.
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{origin or path}: {missing}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{origin or path}: not UTF-8 text") from exc


def describe_yaml_error(exc: Exception, origin: str) -> str:
    """Return ``origin:LINE: not valid YAML (problem)`` for a ruamel or PyYAML error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or exc
    return f"{origin}{line}: not valid YAML ({' '.join(str(problem).split())})"


def yaml_roundtrip() -> Any:
    """Return a ruamel ``YAML`` configured for byte-preserving round trips."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = WIDTH
    return yaml


def parse_yaml(text: str | bytes, origin: str, *, error: type[MlopsError] = ConfigError) -> Any:
    """Parse YAML 1.2 ``text`` into plain Python data (ruamel's safe loader)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise error(describe_yaml_error(exc, origin)) from exc


def read_yaml(
    path: str | os.PathLike[str],
    origin: str = "",
    *,
    error: type[MlopsError] = ConfigError,
    missing: str = MISSING,
) -> Any:
    """Read and parse the YAML file at ``path`` with :func:`parse_yaml`."""
    text = read_text(path, origin, error=error, missing=missing)
    return parse_yaml(text, origin or str(path), error=error)


def parse_yaml_roundtrip(text: str, origin: str, *, error: type[MlopsError] = ConfigError) -> Any:
    """Parse YAML text into ruamel's commented containers (they keep line numbers)."""
    from ruamel.yaml.error import YAMLError

    try:
        return yaml_roundtrip().load(text)
    except YAMLError as exc:
        raise error(describe_yaml_error(exc, origin)) from exc


def parse_json(
    text: str | bytes, origin: str, *, error: type[MlopsError] = ConfigError, fix: str = ""
) -> Any:
    """Parse JSON ``text``; a syntax error names ``origin:LINE`` and ends with ``fix``."""
    end = f"; {fix}" if fix else ""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{origin}:{exc.lineno}: not valid JSON ({exc.msg}){end}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{origin}: not valid JSON (not UTF-8 text){end}") from exc


def read_json(
    path: str | os.PathLike[str],
    origin: str = "",
    *,
    error: type[MlopsError] = ConfigError,
    missing: str = MISSING,
    fix: str = "",
) -> Any:
    """Read and parse the JSON file at ``path`` with :func:`parse_json`."""
    text = read_text(path, origin, error=error, missing=missing)
    return parse_json(text, origin or str(path), error=error, fix=fix)


def parse_json_lines(
    text: str, origin: str, *, error: type[MlopsError] = ConfigError
) -> list[tuple[int, Any]]:
    """Parse JSON Lines ``text`` into ``(line number, value)`` pairs, skipping blank lines.

    A line that is not JSON is named ``origin:LINE``.
    """
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise error(f"{origin}:{number}: not valid JSON ({exc.msg})") from exc
    return values


def _libyaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        import yaml

        node = self.node
        for key in loc:
            node = _child(node, key) if node is not None else None
        return isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")

    def key_line(self, loc: Loc) -> int:
        """Return the line of the mapping key at the end of ``loc`` (for unknown fields)."""
        import yaml

        parent = self.node
        for key in loc[:-1]:
            parent = _child(parent, key) if parent is not None else None
        if isinstance(parent, yaml.MappingNode):
            for key_node, _ in parent.value:
                if key_node.value == loc[-1]:
                    return int(key_node.start_mark.line) + 1
        return self.line_of(loc)


def _child(node: yaml.Node, key: str | int) -> yaml.Node | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(key):
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None


def parse_yaml_document(
    text: str, origin: str, *, error: type[MlopsError] = ConfigError
) -> Document:
    """Parse YAML ``text`` with libyaml (YAML 1.1), keeping every node's line.

    Composing and constructing costs what a plain ``yaml.load`` costs, a tenth
    of a round-trip parse, so this is also the fast read of large files.
    """
    import yaml

    loader = _libyaml_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise error(describe_yaml_error(exc, origin)) from exc
    except ValueError as exc:  # a scalar YAML resolves to a type it cannot build (a bad date)
        bad = _unbuildable(node) if node is not None else None
        where = f":{bad.start_mark.line + 1} {bad.value!r}" if bad is not None else ""
        raise error(f"{origin}{where}: not a valid value") from exc
    finally:
        loader.dispose()
    return Document(origin=origin, data=data, node=node)


def _unbuildable(node: yaml.Node) -> yaml.ScalarNode | None:
    """Return the first scalar below ``node`` that the safe constructor cannot build."""
    import yaml

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
