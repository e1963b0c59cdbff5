"""The cost budget of CEL expressions: an estimate when a rule loads, a limit before it runs.

``common-expression-language`` has no cost limit and no way to interrupt an
evaluation (a ``Program`` offers only ``execute``), so the budget lives here,
as Kubernetes bounds CEL in admission policies. Cost counts the tree nodes
one evaluation visits; a comprehension macro (``all``, ``exists``,
``exists_one``, ``map``, ``filter``) costs the size of its range times its
body, so nesting multiplies. When a rule loads, every list, map or string of
the bundle counts as :data:`DEFAULT_LIST_SIZE` elements (literals count as
written) and a rule whose estimate is over the budget does not load. Before
each evaluation of an expression that iterates, the cost is computed again
from the actual sizes of the values it reads; over the budget, the
expression is not run and the rule is an error. The budget is read by
:func:`read_cost_limits` only (environment variable :data:`BUDGET_VARIABLE`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.syntax import MACROS, Node, parse

DEFAULT_BUDGET = 100_000
DEFAULT_LIST_SIZE = 100
BUDGET_VARIABLE = "MLOPS_CEL_COST_BUDGET"
_SIZED = (list, tuple, dict, str, bytes)


@dataclass(frozen=True)
class CostLimits:
    """The most an expression may cost, and the size a list of unknown size counts as."""

    budget: int = DEFAULT_BUDGET
    list_size: int = DEFAULT_LIST_SIZE


def read_cost_limits() -> CostLimits:
    """Return the limits: :data:`DEFAULT_BUDGET` unless :data:`BUDGET_VARIABLE` sets another.

    Raises:
        PolicyError: the variable is set but is not a positive integer.
    """
    text = os.environ.get(BUDGET_VARIABLE, "").strip()
    if not text:
        return CostLimits()
    if not text.isdigit() or int(text) == 0:
        raise PolicyError(
            f"{BUDGET_VARIABLE}={text!r}: expected a positive integer (default {DEFAULT_BUDGET})"
        )
    return CostLimits(budget=int(text))


class _Sizes(Protocol):
    @property
    def unknown(self) -> int: ...

    def of(self, path: tuple[str, ...]) -> int: ...


class _Bound:
    """Sizes at load time: every value of the bundle has the declared maximum size."""

    def __init__(self, size: int) -> None:
        self.unknown = size

    def of(self, path: tuple[str, ...]) -> int:
        return self.unknown


class _Measured:
    """Sizes at run time: the lengths of the values an expression is given."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def of(self, path: tuple[str, ...]) -> int:
        value: Any = self.data
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                return 0
            value = value[key]
        return len(value) if isinstance(value, _SIZED) else 0

    @cached_property
    def unknown(self) -> int:
        """One more than the longest value anywhere in the data (what a computed list may reach)."""
        longest = 0
        stack: list[Any] = [self.data]
        while stack:
            value = stack.pop()
            if isinstance(value, _SIZED):
                longest = max(longest, len(value))
            if isinstance(value, Mapping):
                stack += [*value.keys(), *value.values()]
            elif isinstance(value, (list, tuple)):
                stack += value
        return longest + 1


@dataclass(frozen=True)
class CostModel:
    """One expression's tree, its estimated cost, and whether its cost depends on the bundle."""

    tree: Node
    estimate: int
    iterates: bool
    limits: CostLimits

    @property
    def over_budget(self) -> bool:
        """Whether the estimate at load time is over the budget."""
        return self.estimate > self.limits.budget

    def measure(self, data: Mapping[str, Any]) -> int:
        """Return the cost of evaluating the expression on ``data`` (the variables it is given)."""
        if not self.iterates:
            return self.estimate
        return _cost(self.tree, _Measured(data), {})


def estimate_cost(source: str, limits: CostLimits) -> CostModel:
    """Return the cost model of ``source``, estimated with lists of ``limits.list_size``.

    Raises:
        SyntaxProblem: the expression cannot be read (fail closed: it does not load).
    """
    return estimate_tree(parse(source), limits)


def estimate_tree(tree: Node, limits: CostLimits) -> CostModel:
    """Return the cost model of an expression tree (see :func:`estimate_cost`)."""
    estimate = _cost(tree, _Bound(limits.list_size), {})
    return CostModel(tree, estimate, _iterates(tree), limits)


def _iterates(node: Node) -> bool:
    return _is_comprehension(node) or any(_iterates(a) for a in node.args)


def _is_comprehension(node: Node) -> bool:
    return (
        node.kind == "method"
        and node.value in MACROS
        and len(node.args) >= 3
        and node.args[1].kind == "ident"
    )


def _bound_names(node: Node) -> set[str]:
    """The variables a comprehension binds: ``x`` in ``l.all(x, p)``, both in ``m.all(k, v, p)``."""
    args = node.args[1:]
    names = {args[0].value}
    if len(args) == 3 and args[1].kind == "ident":
        names.add(args[1].value)
    return names


def _cost(node: Node, sizes: _Sizes, scope: dict[str, int]) -> int:
    if not _is_comprehension(node):
        return 1 + sum(_cost(a, sizes, scope) for a in node.args)
    target, *args = node.args
    element = _element_size(target, sizes, scope)
    inner = {**scope, **dict.fromkeys(_bound_names(node), element)}
    body = sum(_cost(a, sizes, inner) for a in args[1:])
    return 1 + _cost(target, sizes, scope) + _size(target, sizes, scope) * (1 + body)


def _size(node: Node, sizes: _Sizes, scope: dict[str, int]) -> int:
    """The most elements (characters, entries) the value of ``node`` can have."""
    if node.kind == "literal":
        return len(node.literal_text() or "")
    if node.kind in {"list", "map"}:
        return len(node.args) // (2 if node.kind == "map" else 1)
    path = _path(node, scope)
    if path is not None:
        return sizes.of(path)
    return _computed_size(node, sizes, scope)


def _computed_size(node: Node, sizes: _Sizes, scope: dict[str, int]) -> int:
    if node.kind == "ident" and node.value in scope:
        return scope[node.value]
    if node.kind == "op" and node.value == "+":
        return sum(_size(a, sizes, scope) for a in node.args)
    if node.kind == "op" and node.value == "?:":
        return max(_size(a, sizes, scope) for a in node.args[1:])
    if _is_comprehension(node) and node.value in {"map", "filter"}:
        return _size(node.args[0], sizes, scope)
    return sizes.unknown


def _element_size(node: Node, sizes: _Sizes, scope: dict[str, int]) -> int:
    """The most elements one item of the list (or key of the map) ``node`` can have."""
    if node.kind in {"list", "map"}:
        items = node.args if node.kind == "list" else node.args[::2]
        return max((_size(a, sizes, scope) for a in items), default=0)
    if node.kind == "op" and node.value in {"+", "?:"}:
        operands = node.args if node.value == "+" else node.args[1:]
        return max(_element_size(a, sizes, scope) for a in operands)
    if _is_comprehension(node) and node.value == "map":
        element = _element_size(node.args[0], sizes, scope)
        inner = {**scope, **dict.fromkeys(_bound_names(node), element)}
        return _size(node.args[-1], sizes, inner)
    if _is_comprehension(node) and node.value == "filter":
        return _element_size(node.args[0], sizes, scope)
    return sizes.unknown


def _path(node: Node, scope: dict[str, int]) -> tuple[str, ...] | None:
    """The bundle field ``node`` names (``a.b['c']``), or None for any other expression."""
    keys: list[str] = []
    while node.kind in {"select", "index"}:
        key = node.value if node.kind == "select" else node.args[1].literal_text()
        if key is None:
            return None
        keys.append(key)
        node = node.args[0]
    if node.kind != "ident" or node.value in scope:
        return None
    return (node.value, *reversed(keys))
