"""Build GitHub response bodies from the recorded templates in ``fixtures/``.

A template is a real recorded body with ``<<placeholders>>`` where the
emulator puts its own values; ``"<<user>>"`` and ``"<<repository>>"`` stand
for nested objects.  Every URL is rebuilt from the emulator's base so that
github3.py, which navigates by the ``url`` fields, stays on the emulator.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def template(name: str) -> Any:
    """Return the template called ``name`` (a fresh copy must be taken before filling)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())["template"]


def fill(name: str, values: dict[str, Any], objects: dict[str, Any], /, **fields: Any) -> Any:
    """Return template ``name`` with placeholders replaced and ``fields`` set on top.

    Args:
        name: the template.
        values: placeholder -> text, e.g. ``{"api": ..., "full_name": ...}``.
        objects: marker -> nested object, e.g. ``{"user": {...}}``.
        fields: top-level keys to set after filling (dotted names reach into objects).
    """
    body = _substitute(copy.deepcopy(template(name)), values, objects)
    for key, value in fields.items():
        target = body
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return body


def _substitute(node: Any, values: dict[str, Any], objects: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, values, objects) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values, objects) for v in node]
    if isinstance(node, str):
        if node.startswith("<<") and node.endswith(">>") and node[2:-2] in objects:
            return copy.deepcopy(objects[node[2:-2]])
        for key, value in values.items():
            node = node.replace(f"<<{key}>>", str(value))
    return node


def user(login: str, user_id: int, urls: dict[str, str], *, kind: str = "User") -> dict[str, Any]:
    """Return a simple-user object."""
    values = {**urls, "login": login, "id": user_id}
    return fill(  # type: ignore[no-any-return]
        "simple_user",
        values,
        {},
        login=login,
        id=user_id,
        node_id=f"U_{user_id}",
        type=kind,
        avatar_url=f"{urls['web']}/avatars/u/{user_id}",
    )


def authenticated_user(login: str, user_id: int, urls: dict[str, str]) -> dict[str, Any]:
    """Return the body of ``GET /user``."""
    values = {**urls, "login": login, "id": user_id}
    return fill(  # type: ignore[no-any-return]
        "authenticated_user",
        values,
        {},
        login=login,
        id=user_id,
        node_id=f"U_{user_id}",
        avatar_url=f"{urls['web']}/avatars/u/{user_id}",
        name=login,
        email=f"{login}@example.com",
    )
