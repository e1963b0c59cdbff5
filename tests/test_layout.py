"""Guards of the test suite's own layout."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_modules_outside_packages_have_unique_basenames():
    # Test folders without __init__.py share one module namespace under pytest's
    # default import mode, so two test_x.py files in them collide at collection.
    loose = [p.name for p in TESTS.rglob("test_*.py") if not (p.parent / "__init__.py").exists()]
    duplicates = sorted(name for name, n in Counter(loose).items() if n > 1)
    assert duplicates == []
