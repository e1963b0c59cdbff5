"""The hand-written documentation: every page is in the navigation, and support is documented."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _nav_pages(items: list[object]) -> set[str]:
    pages: set[str] = set()
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            pages |= _nav_pages(value)
        elif isinstance(value, str):
            pages.add(value)
    return pages


def test_every_hand_written_page_is_in_the_navigation():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    nav = _nav_pages(config["nav"])
    written = {
        p.relative_to(ROOT / "docs").as_posix()
        for p in (ROOT / "docs").rglob("*.md")
        if "generated" not in p.parts and p.name != "compliance.md" and "models" not in p.parts
    }
    assert written - nav == set()


def test_support_page_states_objectives_severities_and_escalation():
    text = (ROOT / "docs" / "admin" / "support.md").read_text()
    for heading in ("## Service-level objectives", "## Severity levels", "## Escalation"):
        assert heading in text
    assert "mlops registry rollback --env prod" in text
