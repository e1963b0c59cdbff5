"""Validate user documents with pydantic; an error is one line naming file, line and field.

:func:`describe_validation_error` is the only place that turns a pydantic
``ValidationError`` into text; :class:`Wording` holds what differs between
kinds of documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mlops_gitops.documents.read import Loc, parse_yaml_roundtrip
from mlops_gitops.errors import ConfigError, MlopsError

if TYPE_CHECKING:  # pydantic stays out of the CLI's start-up
    from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound="BaseModel")
_NO_DATA: Any = object()


class Lines(Protocol):
    """Where a document keeps the lines of its fields."""

    def line_of(self, loc: Loc) -> int | None:
        """Return the 1-based line of the deepest existing node on ``loc``."""

    def key_line(self, loc: Loc) -> int | None:
        """Return the line of the mapping key at the end of ``loc``."""


@dataclass(frozen=True)
class RoundTripLines:
    """The lines of a ruamel round-trip document (``None`` for plain data).

    ``start`` is the line reported when no key of the path is found: ``1`` for
    a whole file, ``None`` for a section whose own line is not known.
    """

    data: object
    start: int | None = None

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of the deepest key on ``loc`` that the document knows."""
        line, node = self.start, self.data
        for key in loc:
            try:
                lc = node.lc  # type: ignore[attr-defined]  # ruamel CommentedMap/CommentedSeq
                line = (lc.key(key) if isinstance(node, Mapping) else lc.item(key))[0] + 1
                node = node[key]  # type: ignore[index]  # a mapping or a sequence, checked by lc
            except (AttributeError, KeyError, IndexError, TypeError):
                break
        return line

    key_line = line_of


@dataclass(frozen=True)
class Below:
    """The lines of the part of a document found at ``loc``."""

    lines: Lines
    loc: Loc

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of ``loc`` below this part."""
        return self.lines.line_of([*self.loc, *loc])

    def key_line(self, loc: Loc) -> int | None:
        """Return the key line of ``loc`` below this part."""
        return self.lines.key_line([*self.loc, *loc])


@dataclass(frozen=True, kw_only=True)
class Wording:
    """How one kind of document words the first error of a validation.

    ``unknown``/``missing`` replace pydantic's text for an unknown or a missing
    field (``None`` keeps it); ``top`` names an error of the whole document;
    ``items`` names list items by their ``id`` and writes indexes as ``[0]``;
    ``inputs`` appends the value found; ``more`` counts the other errors.
    """

    unknown: str | None = "unknown field; remove it or fix its spelling"
    missing: str | None = "required field is missing"
    top: str = "(top level)"
    items: bool = False
    inputs: bool = False
    more: bool = False


DOCUMENT = Wording()
POLICY = Wording(top="", items=True)
PARAMS = Wording(
    unknown="unknown key; check its spelling against the documented params",
    missing=None,
    inputs=True,
    more=True,
)
SECTION = Wording(unknown=None, missing=None, more=True)
RECORD = Wording(unknown=None, missing=None)  # pydantic's own reasons: records tools write


def validate(
    model: type[M],
    data: Any,
    origin: str,
    *,
    error: type[MlopsError] = ConfigError,
    lines: Lines | None = None,
    prefix: Loc = (),
    wording: Wording = DOCUMENT,
) -> M:
    """Validate ``data`` as ``model``; an error is :func:`describe_validation_error`'s line."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        shown = describe_validation_error(
            exc, origin, data, lines=lines, prefix=prefix, wording=wording
        )
        raise error(shown) from exc


def validate_yaml(
    model: type[M],
    text: str,
    origin: str,
    *,
    error: type[MlopsError] = ConfigError,
    fast: Callable[[str], Any] | None = None,
) -> M:
    """Parse YAML ``text`` and validate it as ``model``; an empty document is ``{}``.

    ``fast`` is a quicker parser tried first (:mod:`mlops_gitops.manifests.fastyaml`);
    when it raises ``ValueError`` or its data does not validate, the round-trip
    parser reads the text again and gives the error with its line.
    """
    from pydantic import ValidationError

    if fast is not None:
        try:
            return model.model_validate(_empty_as_mapping(fast(text)))
        except (ValueError, ValidationError):
            pass
    data = _empty_as_mapping(parse_yaml_roundtrip(text, origin, error=error))
    return validate(model, data, origin, error=error, lines=RoundTripLines(data, start=1))


def _empty_as_mapping(data: Any) -> Any:
    return {} if data is None else data


def describe_validation_error(
    exc: ValidationError,
    origin: str,
    data: Any = _NO_DATA,
    *,
    lines: Lines | None = None,
    prefix: Loc = (),
    wording: Wording = DOCUMENT,
) -> str:
    """Return the first error of ``exc`` as ``origin[:LINE] FIELD: reason``.

    ``data`` is what was validated: parts of pydantic's location that are not in
    it (the tag of a discriminated union) are left out of the field path.
    ``prefix`` is the path of ``data`` in its file. Without ``data`` the path is
    pydantic's location as it is.
    """
    error = exc.errors(include_url=False)[0]
    kind = str(error["type"])
    path, item = _data_path(data, error["loc"], kind)
    if lines is None:
        line = None
    else:
        line = lines.key_line(path) if kind == "extra_forbidden" else lines.line_of(path)
    place = f"{origin}:{line}" if line else origin
    where = _where([*prefix, *path], item, wording)
    more = exc.error_count() - 1
    text = _reason(error, wording) + (f" (and {more} more errors)" if more and wording.more else "")
    return f"{place} {where}: {text}" if where else f"{place}: {text}"


def _reason(error: Any, wording: Wording) -> str:
    kind = error["type"]
    if kind == "extra_forbidden" and wording.unknown is not None:
        return wording.unknown
    if kind == "missing" and wording.missing is not None:
        return wording.missing
    text = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    text = text[:1].lower() + text[1:]
    shown = error.get("input")
    if wording.inputs and kind not in {"missing", "extra_forbidden", "value_error"}:
        text += "" if isinstance(shown, Mapping) else f" (got {shown!r})"
    return text


def _where(full: list[str | int], item: tuple[str, int] | None, wording: Wording) -> str:
    if not wording.items:
        return ".".join(str(key) for key in full) or wording.top
    if item is not None:
        label, start = item
        return f"{label} {format_loc(full[start:])}".rstrip()
    return format_loc(full) or wording.top


def _data_path(
    value: Any, loc: Sequence[str | int], kind: str
) -> tuple[list[str | int], tuple[str, int] | None]:
    """Keep the parts of a pydantic ``loc`` that exist in the data (drop union tags).

    A missing field keeps its own name. Also return the label of the innermost
    list item with an ``id`` (``rule 'x'``) and where the path below it starts.
    """
    if value is _NO_DATA:
        return list(loc), None
    path: list[str | int] = []
    item: tuple[str, int] | None = None
    current = value
    for index, key in enumerate(loc):
        if has_item(current, key):
            current = current[key]
        elif index == len(loc) - 1 and kind == "missing" and isinstance(current, Mapping):
            path.append(key)
            break
        else:
            continue
        path.append(key)
        if (
            isinstance(key, int)
            and isinstance(current, Mapping)
            and isinstance(current.get("id"), str)
        ):
            noun = str(path[-2]).removesuffix("s") if len(path) > 1 else "item"
            item = (f"{noun} '{current['id']}'", len(path))
    return path, item


def has_item(container: Any, key: str | int) -> bool:
    """Return whether ``container[key]`` exists (a mapping key or a list index)."""
    if isinstance(container, Mapping):
        return key in container
    return (
        isinstance(container, Sequence)
        and not isinstance(container, str | bytes)
        and isinstance(key, int)
        and 0 <= key < len(container)
    )


def format_loc(loc: Loc) -> str:
    """Render a field path as ``rules[0].where.environments``."""
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
