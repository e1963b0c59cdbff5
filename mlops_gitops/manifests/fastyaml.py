"""A fast YAML 1.2 reader for validating manifests (libyaml through PyYAML).

Reading the manifests is on the path of every registry read, once per
manifest and revision: a read takes 0.16 ms against 3.4 ms with ruamel's
round-trip parser (about 21x; parsed and validated, 0.18 ms against 3.6 ms,
about 20x), and the first read of a process, imports included, 14 ms
against 20 ms (about 1.5x; ``bench/import_tricks.py``).

The reader resolves scalars as ruamel does for YAML 1.2 (the same regular
expressions) and refuses duplicate keys; whenever it cannot read a
document, or the document does not validate, the caller falls back to the
round-trip parser, which gives the authoritative error with its line.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, ClassVar

# The YAML 1.2 implicit resolvers of ruamel.yaml.resolver (merge keys are left
# to the round-trip parser).
_RESOLVERS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[\ \t]+)[0-9][0-9]?
        :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
)


class FastYamlError(ValueError):
    """The fast reader cannot read this document; use the round-trip parser."""


def _int(text: str) -> int:
    sign = -1 if text[:1] == "-" else 1
    digits = text.lstrip("+-").replace("_", "")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


@cache
def _make_loader() -> Any:
    try:
        import yaml
        from yaml import CSafeLoader as Base
    except ImportError:  # pragma: no cover - PyYAML without libyaml: use the round-trip parser
        return None

    class Loader(Base):  # type: ignore[misc]  # the C loader has no type stubs
        yaml_implicit_resolvers: ClassVar[dict[str, Any]] = {}

    for tag, pattern, first in _RESOLVERS:
        Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))
    if "" not in Loader.yaml_implicit_resolvers:
        Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])

    def construct_int(loader: Any, node: Any) -> int:
        return _int(loader.construct_scalar(node))

    def construct_mapping(loader: Any, node: Any) -> dict[Any, Any]:
        keys = [loader.construct_object(key) for key, _ in node.value]
        if len(set(map(repr, keys))) != len(keys) or "<<" in keys:
            raise FastYamlError("duplicate or merge key")
        loader.flatten_mapping(node)
        return dict(loader.construct_pairs(node, deep=True))

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:float", yaml.SafeLoader.construct_yaml_float)
    return Loader


def load_fast(text: str) -> Any:
    """Parse ``text`` as YAML 1.2 with libyaml.

    Raises:
        FastYamlError: the text is not valid YAML, or uses what only the
            round-trip parser reads (merge keys, duplicate keys).
    """
    loader = _make_loader()
    if loader is None:  # pragma: no cover - see _make_loader
        raise FastYamlError("libyaml is not available")
    import yaml

    try:
        return yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise FastYamlError(str(exc)) from exc
