"""Fixtures of the training tests: a prepared split that follows the data contract."""

from __future__ import annotations

import pytest
from credit_frames import Split, write_split


@pytest.fixture(scope="session")
def split(tmp_path_factory: pytest.TempPathFactory) -> Split:
    """A 400-row prepared split shared by the tests of a session (read-only)."""
    return write_split(tmp_path_factory.mktemp("prepared"))
