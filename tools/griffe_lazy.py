"""A griffe extension for the API page: a lazy package exports its ``if TYPE_CHECKING:`` names.

griffe reads ``__all__`` only when it is written as a literal; the lazy
packages (:mod:`mlops_gitops._lazy`) compute theirs, so without this
extension the page would list their submodules instead of their public
names. ``mkdocs.yml`` loads it for mkdocstrings.
"""

from __future__ import annotations

from typing import Any

import griffe

from mlops_gitops._lazy import read_exports

HELPER = "mlops_gitops._lazy.lazy_exports"


class LazyExports(griffe.Extension):
    """Set the exports of each package that calls ``lazy_exports``."""

    def on_module_members(
        self,
        *,
        node: Any,
        mod: griffe.Module,
        agent: Any,
        **kwargs: Any,
    ) -> None:
        """Read the package's exports as the helper does at run time."""
        helper = mod.members.get("lazy_exports")
        if isinstance(helper, griffe.Alias) and helper.target_path == HELPER:
            exports: list[str | griffe.ExprName] = [*sorted(read_exports(str(mod.filepath)))]
            mod.exports = exports
