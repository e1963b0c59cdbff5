"""Plug-in points: the built-in implementations of each, by name, extended by entry points.

Model families, tasks, explainers, data connectors, policy rule kinds, alert
channels and forges are each one :class:`PluginPoint`: an entry-point group,
the Protocol an implementation satisfies, and the one table of its built-ins,
kept in the concept's own module. This module is the only reader of package
metadata (``importlib.metadata.entry_points``), and it follows one rule set:

- **A built-in name always means the built-in.** Built-ins are declared only
  in their table, never as entry points. An entry point of another
  distribution that claims a built-in name is ignored, with a warning naming
  it; one of this package's own (left in the metadata of an older install)
  is ignored quietly.
- **Metadata is read lazily**: looking up a built-in reads none; the entry
  points are scanned only for a name that is not built in, or to list them.
- **Errors are one line**, of the point's own :class:`MlopsError` subclass,
  prefixed by the field that named the plug-in when the caller gives one:
  ``unknown model family 'x'; known: lightning, sklearn``; a plug-in whose
  import fails names its entry point (the ImportError follows as the cause);
  one that does not satisfy the Protocol names the members it lacks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Generic, TypeGuard, TypeVar

from mlops_gitops.errors import MlopsError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

log = logging.getLogger(__name__)

T = TypeVar("T")
DISTRIBUTION = "mlops-gitops"
# Members every class has: never reported as missing from a plug-in.
_IGNORED_MEMBERS = frozenset({"__init__", "__class_getitem__", "__init_subclass__"})


def as_is(obj: object) -> object:
    """Return ``obj`` itself: the plug-in point's implementations are factories."""
    return obj


def instance(obj: object) -> object:
    """Return an instance: ``obj`` called without arguments when it is a class, else ``obj``."""
    return obj() if isinstance(obj, type) else obj


def reference(obj: object) -> str:
    """Return ``module:attribute`` of a built-in: a reference string, class, function or object."""
    if isinstance(obj, str):
        return obj
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    return f"{target.__module__}:{target.__qualname__}"


@dataclass(frozen=True, kw_only=True)
class PluginPoint(Generic[T]):
    """One plug-in point: its entry-point group, Protocol and built-ins.

    ``builtins`` maps a name to the implementation, or to its ``module:attribute``
    (imported only when that name is used); ``make`` turns what an entry or a
    built-in refers to into the implementation (:func:`instance` or :func:`as_is`);
    ``what`` names the point in messages (``model family``); ``error`` is raised.
    """

    group: str
    what: str
    protocol: type
    builtins: Mapping[str, object]
    error: type[MlopsError] = MlopsError
    make: Callable[[object], object] = as_is

    def names(self) -> dict[str, str]:
        """Return every known name -> ``module:attribute``, built-ins and plug-ins, sorted."""
        found = {name: reference(value) for name, value in self.builtins.items()}
        found.update((entry.name, entry.value) for entry in self._plugins())
        return dict(sorted(found.items()))

    def load(self, name: str, *, where: str = "") -> T:
        """Return the implementation called ``name``.

        Args:
            name: the built-in's or the entry point's name.
            where: the file or field that named it, prefixed to every message.

        Raises:
            MlopsError: (the point's ``error``) the name is unknown, its module
                cannot be imported, or it does not satisfy the Protocol.
        """
        prefix = f"{where}: " if where else ""
        source, resolve = self._find(name, prefix)
        label = f"{prefix}{self.what} '{name}' ({source})"
        try:
            loaded = resolve()
        except (ImportError, AttributeError) as exc:
            raise self.error(f"{label} cannot be imported") from exc
        try:
            made = self.make(loaded)
        except (TypeError, ValueError) as exc:
            raise self.error(f"{label} cannot be created") from exc
        if not self._satisfies(made):
            missing = [m for m in _members(self.protocol) if not hasattr(made, m)]
            lacks = f": missing {', '.join(missing)}" if missing else ""
            raise self.error(f"{label} does not implement {self.protocol.__name__}{lacks}")
        return made

    def _find(self, name: str, prefix: str) -> tuple[str, Callable[[], object]]:
        """Return where ``name`` comes from and how to import it."""
        if name in self.builtins:
            value = self.builtins[name]
            if isinstance(value, str):
                return value, lambda: _import(value)
            return reference(value), lambda: value
        entry = next((e for e in self._plugins() if e.name == name), None)
        if entry is None:
            known = ", ".join(self.names())
            raise self.error(f"{prefix}unknown {self.what} '{name}'; known: {known}")
        return _describe(entry), entry.load

    def _satisfies(self, obj: object) -> TypeGuard[T]:
        return isinstance(obj, self.protocol)

    def _plugins(self) -> list[EntryPoint]:
        from importlib.metadata import entry_points

        found: list[EntryPoint] = []
        for entry in entry_points(group=self.group):
            if entry.name not in self.builtins:
                found.append(entry)
            elif not _is_own(entry):
                builtin = reference(self.builtins[entry.name])
                log.warning(
                    "%s: ignored, '%s' is the built-in %s %s",
                    _describe(entry),
                    entry.name,
                    self.what,
                    builtin,
                )
        return found


def _import(target: str) -> object:
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


def _describe(entry: EntryPoint) -> str:
    dist = entry.dist
    where = "" if dist is None else f" of {dist.name} {dist.version}"
    return f"entry point '{entry.name} = {entry.value}'{where}"


def _is_own(entry: EntryPoint) -> bool:
    name = "" if entry.dist is None else entry.dist.name
    return re.sub(r"[-_.]+", "-", name).lower() == DISTRIBUTION


def _members(protocol: type) -> list[str]:
    names: dict[str, None] = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or cls.__module__ == "typing":
            continue
        for name in (*getattr(cls, "__annotations__", {}), *vars(cls)):
            if (not name.startswith("_") or name == "__call__") and name not in _IGNORED_MEMBERS:
                names[name] = None
    return list(names)
