"""The syntax of CEL expressions as the policies concept reads it: tokens and a small tree.

The CEL engine compiles and runs expressions but shows no syntax tree, and
two questions need one: which bundle fields an expression reads
(:func:`mlops_gitops.policies.engine.read_paths`) and how much work it can
do (:mod:`mlops_gitops.policies.cost`). This module tokenizes CEL and parses
the expression grammar of the CEL spec (ternary, logic, relations,
arithmetic, member and index access, calls, list and map literals) into
:class:`Node` trees. Only expressions the engine compiled are parsed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_HEIGHT = 200
MAX_NESTING = 50
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_TOKEN = re.compile(
    r"""(?P<str>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))"""
    r"|(?P<num>0[xX][0-9a-fA-F]+[uU]?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?)"
    r"|(?P<ident>[A-Za-z_]\w*)"
    r"|(?P<punct>&&|\|\||==|!=|<=|>=|[.\[\](),{}:?!<>+\-*/%])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"||"}),
    frozenset({"&&"}),
    frozenset({"<", "<=", ">", ">=", "==", "!=", "in"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
)
_LITERALS = frozenset({"true", "false", "null"})


class SyntaxProblem(ValueError):
    """The expression is outside the grammar this module reads (or nested too deeply)."""


class TooDeep(SyntaxProblem):
    """The expression nests deeper than the limits (the CEL engine itself crashes on some)."""


@dataclass(frozen=True)
class Node:
    """One node of an expression tree.

    ``kind`` is ``literal`` (``value`` is the token), ``ident``, ``select``
    (``value`` is the field, ``args[0]`` the operand), ``index`` (operand
    and index), ``call`` (a global function ``value``), ``method`` (``value``
    called on ``args[0]`` with the rest), ``list``, ``map`` (keys and values
    alternate) or ``op`` (an operator ``value``; ``?:`` for the ternary).
    """

    kind: str
    value: str = ""
    args: tuple[Node, ...] = ()
    height: int = field(default=1, init=False, compare=False)

    def __post_init__(self) -> None:
        height = 1 + max((a.height for a in self.args), default=0)
        if height > MAX_HEIGHT:
            raise TooDeep(f"nested more than {MAX_HEIGHT} levels deep")
        object.__setattr__(self, "height", height)

    def literal_text(self) -> str | None:
        """Return the text of a string literal, unquoted; None for any other node."""
        if self.kind != "literal" or self.value[:1] not in {"'", '"'}:
            return None
        quote = 3 if self.value[:3] in ("'''", '"""') else 1
        return self.value[quote:-quote]


def tokenize(source: str) -> Iterator[tuple[str, str]]:
    """Yield ``(kind, text)`` for each token: str, num, ident, punct, space or other."""
    for match in _TOKEN.finditer(source):
        yield match.lastgroup or "other", match.group()


def parse(source: str) -> Node:
    """Return the tree of ``source``.

    Raises:
        SyntaxProblem: a construct this reader does not know, brackets nested deeper
            than :data:`MAX_NESTING` or a tree higher than :data:`MAX_HEIGHT` (its
            readers walk it recursively).
    """
    tokens = [(kind, text) for kind, text in tokenize(source) if kind != "space"]
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.pos != len(tokens):
        raise SyntaxProblem(f"unexpected '{tokens[parser.pos][1]}'")
    return node


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise SyntaxProblem("unexpected end of expression")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise SyntaxProblem(f"expected '{expected}', found '{token[1]}'")
        self.pos += 1
        return token

    def expression(self) -> Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise TooDeep(f"nested more than {MAX_NESTING} levels deep")
        condition = self.binary(0)
        if self.peek() == "?":
            self.take()
            yes = self.expression()
            self.take(":")
            condition = Node("op", "?:", (condition, yes, self.expression()))
        self.nesting -= 1
        return condition

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _LEVELS[level] and self.tokens[self.pos][0] in {"punct", "ident"}:
            operator = self.take()[1]
            left = Node("op", operator, (left, self.binary(level + 1)))
        return left

    def unary(self) -> Node:
        operators: list[str] = []
        while self.peek() in {"!", "-"}:
            operators.append(self.take()[1])
        node = self.member(self.primary())
        for operator in reversed(operators):
            node = Node("op", operator, (node,))
        return node

    def member(self, node: Node) -> Node:
        while self.peek() in {".", "["}:
            if self.take()[1] == "[":
                node = Node("index", "", (node, self.expression()))
                self.take("]")
                continue
            kind, name = self.take()
            if kind != "ident":
                raise SyntaxProblem(f"expected a field name after '.', found '{name}'")
            if self.peek() == "(":
                node = Node("method", name, (node, *self.arguments(")")))
            else:
                node = Node("select", name, (node,))
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind in {"str", "num"} or text in _LITERALS:
            return Node("literal", text)
        if text == "(":
            node = self.expression()
            self.take(")")
            return node
        if text == "[":
            return Node("list", "", self.arguments("]"))
        if text == "{":
            return Node("map", "", self.entries())
        if text == "." and self.peek() and self.tokens[self.pos][0] == "ident":
            kind, text = self.take()  # a leading dot names the root scope: '.x'
        if kind == "ident":
            if self.peek() == "(":
                return Node("call", text, self.arguments(")"))
            return Node("ident", text)
        raise SyntaxProblem(f"unexpected '{text}'")

    def arguments(self, close: str) -> tuple[Node, ...]:
        if close == ")":
            self.take("(")
        args: list[Node] = []
        while self.peek() != close:
            args.append(self.expression())
            if self.peek() != close:
                self.take(",")
        self.take(close)
        return tuple(args)

    def entries(self) -> tuple[Node, ...]:
        items: list[Node] = []
        while self.peek() != "}":
            items.append(self.expression())
            self.take(":")
            items.append(self.expression())
            if self.peek() != "}":
                self.take(",")
        self.take("}")
        return tuple(items)
