"""The issue operations of the emulator (the ``forge_issue`` alert channel opens issues)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import objects
from .state import Issue

if TYPE_CHECKING:
    from .server import Request


def _fail(status: int, message: str) -> Any:
    from .server import ApiError

    raise ApiError(status, message)


def create_issue(request: Request) -> tuple[int, Any]:
    """``POST /repos/{owner}/{repo}/issues``: labels that do not exist yet are created."""
    body = request.body
    title, text, labels = body.get("title"), body.get("body"), body.get("labels") or []
    if not isinstance(title, str) or not title.strip():
        _fail(422, "Validation Failed: title is missing")
    if text is not None and (not isinstance(text, str) or len(text) > 65536):
        _fail(422, "Validation Failed: body is too long (maximum is 65536 characters)")
    if not isinstance(labels, list) or not all(isinstance(name, str) for name in labels):
        _fail(422, "Validation Failed: labels must be a list of names")
    state = request.state
    for name in labels:
        state.labels.setdefault(name, state.next_id())
    item = Issue(state.next_number(), state.next_id(), title, text, list(labels), request.who)
    state.issues[item.number] = item
    return 201, objects.issue(state, request.urls(), item)


R = r"/repos/(?P<full>[^/]+/[^/]+)"
ROUTES: list[tuple[str, str, str, Any]] = [
    ("POST", R + r"/issues", "POST /repos/{owner}/{repo}/issues", create_issue),
]
