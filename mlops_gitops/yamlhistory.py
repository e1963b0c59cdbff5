"""Changes of YAML files over Git history: which items each commit changed.

The caller's ``git log`` says which commits touched which file; this module
reads each file at the commit and at its first parent with one
``cat-file --batch``, parses both through :mod:`mlops_gitops.documents`, picks
out the items the caller names (the model blocks of a manifest, the waivers
of ``policies/waivers.yaml``) and compares them. A version that is not valid
YAML counts as empty, with a warning: history cannot be rewritten, so one bad
old commit must not stop every later read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_gitops import scm
from mlops_gitops.documents import parse_yaml
from mlops_gitops.errors import MlopsError

log = logging.getLogger(__name__)

Touch = tuple[str, str | None, str]
"""A commit, its first parent (None for a root commit) and a file the commit changed."""
Items = Callable[[Any], Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ItemChange:
    """One item of a file that differs between a commit and its first parent.

    ``before`` is None for an item the commit added, ``after`` for one it removed.
    """

    commit: str
    path: str
    key: str
    before: Any
    after: Any


def read_item_changes(
    root: str | os.PathLike[str],
    touched: Iterable[Touch],
    *,
    items: Items,
    view: Callable[[Any], object] = lambda item: item,
) -> list[ItemChange]:
    """Return the items each commit changed in each file, in the order given, keys sorted.

    ``items`` turns a parsed file (None when absent) into ``{key: item}``;
    an item counts as changed when ``view`` of it differs (default: any difference).
    """
    touches = list(touched)
    names = {f"{commit}:{path}" for commit, _, path in touches}
    names |= {f"{parent}:{path}" for _, parent, path in touches if parent}
    parsed: dict[str, Mapping[str, Any]] = {
        name: items(_parse(name, kind, content))
        for name, kind, content in scm.cat_file_batch(sorted(names), root)
    }
    changes: list[ItemChange] = []
    for commit, parent, path in touches:
        after = parsed.get(f"{commit}:{path}", {})
        before = parsed.get(f"{parent}:{path}", {}) if parent else {}
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            if view(old) != view(new):
                changes.append(ItemChange(commit=commit, path=path, key=key, before=old, after=new))
    return changes


def _parse(name: str, kind: str, content: bytes | None) -> Any:
    if kind != "blob" or not content:
        return None
    commit, _, path = name.partition(":")
    try:
        return parse_yaml(content.decode("utf-8"), f"{commit[:8]}:{path}")
    except UnicodeDecodeError:
        log.warning("%s: not UTF-8 text; its changes are left out of the history", name)
    except MlopsError as exc:
        log.warning("%s; its changes are left out of the history", exc)
    return None
