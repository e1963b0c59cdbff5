"""A stateful GitHub REST emulator for the tests (see ``server.py``)."""

from __future__ import annotations

from .server import ApiError, GitHubEmulator
from .state import Identity

__all__ = ["ApiError", "GitHubEmulator", "Identity"]
