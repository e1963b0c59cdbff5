"""The CEL engine: compile and evaluate expressions, explain their errors.

Every use of the ``common-expression-language`` package goes through this
module. Its exceptions become one-line :class:`PolicyError` messages that
name ``file:line``, the rule id and the field. The module also finds the
field paths an expression reads (for lint and for the values a result
shows) and renders message templates whose ``{{ ... }}`` holes are CEL.

The CEL extension is loaded alone (:func:`cel_module`): 0.9 ms against 0.15 s
for ``import cel``, about 160x (``bench/import_tricks.py``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from mlops_gitops.policies.cost import CostModel, estimate_tree, read_cost_limits
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.syntax import MACROS, Node, SyntaxProblem, TooDeep, parse, tokenize

FieldPath = tuple[str | int, ...]
ANY_INDEX = -1
ABSENT = "<absent>"

_CEL_ERRORS = (ValueError, TypeError, KeyError, RuntimeError, IndexError, ArithmeticError)
_SYNTAX = re.compile(r"ERROR: <input>:(\d+):(\d+): ([^\n]*)")
_HOLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_RESERVED = frozenset(
    {"true", "false", "null", "in", "int", "uint", "double", "bool", "string", "bytes"}
    | {"list", "map", "type", "null_type", "dyn", "duration", "timestamp"}
)


class OverBudget(PolicyError):
    """An expression's cost on the bundle at hand is over the budget: it was not run."""


@dataclass(frozen=True, kw_only=True)
class Spot:
    """Where an expression was written: file, line of its value, rule id and field."""

    origin: str
    line: int
    rule: str
    field: str
    block: bool = False

    def describe(self, expr_line: int = 1) -> str:
        """Return ``file:line rule 'id' field`` for the given line of the expression."""
        line = self.line + (1 if self.block else 0) + expr_line - 1
        return f"{self.origin}:{line} rule '{self.rule}' {self.field}"


@cache
def cel_module() -> Any:
    """Return the compiled extension of ``common-expression-language``.

    ``import cel`` also imports the package's command line (typer, rich,
    prompt_toolkit): about 150 ms, a fifth of the gate's whole budget. The
    engine needs only the extension module ``cel.cel``, so it loads that
    alone, registered under its own name; a later ``import cel`` reuses it.
    """
    return sys.modules.get("cel.cel") or _load_extension()


def _load_extension() -> Any:
    spec = importlib.util.find_spec("cel")
    folder = spec.submodule_search_locations[0]  # type: ignore[union-attr,index]  # a core dependency
    path = next(
        candidate
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if os.path.exists(candidate := os.path.join(folder, f"cel{suffix}"))
    )
    loader = importlib.machinery.ExtensionFileLoader("cel.cel", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("cel.cel", loader))  # type: ignore[arg-type]  # a loader always gives a spec
    sys.modules["cel.cel"] = module
    loader.exec_module(module)
    return module


class Activation:
    """The variables expressions see: the bundle and the rule's ``vars``.

    Each expression is given only the fields it reads (:meth:`select`): the
    CEL engine converts and copies every map it is handed, so a rule that
    reads one metric must not pay for the whole bundle (1 ms per rule on the
    reference project's bundle, a few microseconds once selected).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data: dict[str, Any] = dict(data)

    def bind_vars(self, values: Mapping[str, Any]) -> None:
        """Set the ``vars`` variable (the constants of the rule being evaluated)."""
        self.data["vars"] = values

    def select(self, paths: tuple[FieldPath, ...]) -> dict[str, Any]:
        """Return the part of the data that holds ``paths``, shortest paths first.

        A path ends at a list, a non-map value or a computed index with the
        whole value; the maps along an absent path are kept, so ``has()``
        and the absent-field error behave as on the whole bundle.
        """
        selected: dict[str, Any] = {}
        for path in sorted(paths, key=len):
            _copy_path(self.data, selected, path)
        return selected


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: FieldPath) -> None:
    for index, key in enumerate(path):
        if key not in source or target.get(key) is source[key]:  # absent, or copied whole
            return
        value = source[key]
        if index == len(path) - 1 or not isinstance(value, dict) or path[index + 1] == ANY_INDEX:
            target[key] = value
            return
        target = target.setdefault(key, {})
        source = value


class Expression:
    """One compiled CEL expression and the field paths it reads."""

    def __init__(self, source: str, spot: Spot) -> None:
        self.source = source
        self.spot = spot
        tree = _read_tree(source, spot)  # first: the engine crashes on some deep nestings
        try:
            self._program = cel_module().compile(source)
        except _CEL_ERRORS as exc:
            raise PolicyError(self._explain(exc)) from exc
        if isinstance(tree, SyntaxProblem):
            raise PolicyError(f"{spot.describe()}: cannot estimate the cost: {tree}") from tree
        self.reads: tuple[FieldPath, ...] = tuple(read_paths(source))
        self.cost = _estimate(tree, spot)

    def evaluate(self, activation: Activation) -> Any:
        """Return the value of the expression.

        Raises:
            OverBudget: the cost on these values is over the budget (it is not run).
            PolicyError: a type error, an absent field or another evaluation error.
        """
        selected = activation.select(self.reads)
        if self.cost.iterates:
            cost, budget = self.cost.measure(selected), self.cost.limits.budget
            if cost > budget:
                raise OverBudget(
                    f"{self.spot.describe()}: cost {cost:,} on this bundle is over the budget "
                    f"of {budget:,}; not evaluated (nest fewer comprehensions)"
                )
        try:
            return self._program.execute(selected)
        except _CEL_ERRORS as exc:
            raise PolicyError(self._explain(exc)) from exc

    def _explain(self, exc: Exception) -> str:
        text = str(exc)
        match = _SYNTAX.search(text)
        if match:
            where = self.spot.describe(int(match.group(1)))
            reason = match.group(3).removeprefix("Syntax error: ").split(" expecting ")[0]
            return f"{where}: syntax error at column {match.group(2)}: {reason}"
        return f"{self.spot.describe()}: {explain_error(exc)}"


def _read_tree(source: str, spot: Spot) -> Node | SyntaxProblem:
    """Return the tree of ``source``, or why it cannot be read (a syntax error is the engine's)."""
    try:
        return parse(source)
    except TooDeep as exc:
        raise PolicyError(f"{spot.describe()}: {exc}; split the expression") from exc
    except SyntaxProblem as exc:
        return exc


def _estimate(tree: Node, spot: Spot) -> CostModel:
    model = estimate_tree(tree, read_cost_limits())
    if model.over_budget:
        raise PolicyError(
            f"{spot.describe()}: estimated cost {model.estimate:,} is over the budget of "
            f"{model.limits.budget:,} (lists of unknown size count as "
            f"{model.limits.list_size} elements); nest fewer comprehensions"
        )
    return model


def explain_error(exc: Exception) -> str:
    """Turn an exception of the CEL engine into a short reason."""
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        return (
            f"field {text} is absent from the bundle; "
            "guard it with has(...) or list it under 'requires'"
        )
    if isinstance(exc, TypeError):
        return (
            "type error: no operator or function takes these operand types "
            "(CEL never converts int and double: write 1.0 rather than 1, or use double(x))"
        )
    if text.startswith("Undefined variable or function"):
        name = text.split("'")[1] if "'" in text else text
        return f"unknown variable or function '{name}'"
    return f"cannot evaluate: {text.split('. ')[0]}"


class Template:
    """A message whose ``{{ expression }}`` holes are CEL, rendered per result."""

    def __init__(self, text: str, spot: Spot) -> None:
        self.text = text
        self.parts: list[str | Expression] = []
        pos = 0
        for match in _HOLE.finditer(text):
            self.parts.append(text[pos : match.start()])
            self.parts.append(Expression(match.group(1).strip(), spot))
            pos = match.end()
        self.parts.append(text[pos:])

    @property
    def reads(self) -> tuple[FieldPath, ...]:
        """The field paths the holes read."""
        return tuple(p for part in self.parts if isinstance(part, Expression) for p in part.reads)

    def render(self, activation: Activation) -> str:
        """Return the message with every hole replaced by its formatted value."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            try:
                out.append(format_value(part.evaluate(activation)))
            except PolicyError as exc:
                if not isinstance(exc.__cause__, KeyError):
                    raise
                out.append(ABSENT)
        return "".join(out)


def format_value(value: Any) -> str:
    """Format a CEL or JSON value for a message: short floats, ISO times, hours."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        # sorted: CEL maps have no order, and a replayed message must be identical
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in items) + "}"
    for kind, render in _FORMATS:
        if isinstance(value, kind):
            return render(value)
    return str(value)


_FORMATS: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (float, lambda v: f"{v:.6g}"),
    (datetime, lambda v: v.isoformat().replace("+00:00", "Z")),
    (timedelta, lambda v: f"{v.total_seconds() / 3600:.6g}h"),
)


def read_paths(source: str) -> list[FieldPath]:
    """Return the field paths ``source`` reads, such as ``('candidate', 'metrics', 'f1')``.

    A path stops at a computed index (``m[k]``) or a method call; names bound
    by the comprehension macros (``x`` in ``l.all(x, ...)``) are not paths.
    """
    tokens = [(kind, text) for kind, text in tokenize(source) if kind != "space"]
    bound = {
        tokens[i + 2][1]
        for i in range(len(tokens) - 2)
        if tokens[i][1] in MACROS and tokens[i + 1][1] == "(" and tokens[i + 2][0] == "ident"
    }
    paths: list[FieldPath] = []
    for i, (kind, text) in enumerate(tokens):
        starts = kind == "ident" and (i == 0 or tokens[i - 1][1] != ".")
        if not starts or text in _RESERVED or text in bound or _at(tokens, i + 1) == "(":
            continue
        path = _follow(tokens, i + 1, [text])
        if path not in paths:
            paths.append(path)
    return paths


def _follow(tokens: list[tuple[str, str]], i: int, path: list[str | int]) -> FieldPath:
    while i < len(tokens):
        if tokens[i][1] == "." and _kind(tokens, i + 1) == "ident" and _at(tokens, i + 2) != "(":
            path.append(tokens[i + 1][1])
            i += 2
        elif tokens[i][1] == "[" and _at(tokens, i + 2) == "]" and _kind(tokens, i + 1) == "str":
            path.append(_unquote(tokens[i + 1][1]))
            i += 3
        elif tokens[i][1] == "[" and _at(tokens, i + 2) == "]" and _kind(tokens, i + 1) == "num":
            path.append(ANY_INDEX)
            i += 3
        else:
            break
    return tuple(path)


def _at(tokens: list[tuple[str, str]], i: int) -> str:
    return tokens[i][1] if i < len(tokens) else ""


def _kind(tokens: list[tuple[str, str]], i: int) -> str:
    return tokens[i][0] if i < len(tokens) else ""


def _unquote(text: str) -> str:
    body = text.lstrip("rRbB")
    quote = 3 if body[:3] in ("'''", '"""') else 1
    return body[quote:-quote]


def format_path(path: FieldPath) -> str:
    """Render a field path as written in CEL: ``candidate.metrics["val/acc"]``."""
    out = ""
    for key in path:
        if key == ANY_INDEX:
            out += "[*]"
        elif isinstance(key, str) and key.isidentifier():
            out += f".{key}" if out else key
        else:
            out += f'["{key}"]'
    return out
