"""A stateful GitHub REST emulator for the tests (see ``server.py``)."""

from __future__ import annotations

from .server import ApiError, GitHubEmulator
from .state import Identity
from .tokens import TOKENS

__all__ = ["TOKENS", "ApiError", "GitHubEmulator", "Identity"]
