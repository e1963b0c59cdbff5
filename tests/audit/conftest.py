"""The repository with history of the site tests, shared with the audit tests."""

from __future__ import annotations

from tests.site.conftest import built_history, history_repo

__all__ = ["built_history", "history_repo"]
