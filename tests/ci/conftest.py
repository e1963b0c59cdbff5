"""Fixtures of the CI tests: the tiny forge (``tests/helpers/tiny_forge.py``) on the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forge.emulator import TOKENS, GitHubEmulator

from tests.helpers.tiny_forge import TinyForge


@pytest.fixture
def hosted(tiny: TinyForge) -> Iterator[tuple[TinyForge, GitHubEmulator]]:
    """The tiny project hosted by the emulator (a plain bare repository: no local-forge hooks)."""
    for hook in ("pre-receive", "post-receive"):
        (tiny.forge / "hooks" / hook).unlink()
    with GitHubEmulator(tiny.forge, tokens=TOKENS) as emu:
        yield tiny, emu
    assert emu.schema_errors == []
