"""Reading what commits changed in a YAML file's items (real git)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from mlops_gitops import scm
from mlops_gitops.yamlhistory import ItemChange, read_item_changes
from tests.helpers import gen_tree

FILE = "list.yaml"


def _items(data: Any) -> dict[str, Any]:
    return dict(data.get("items") or {}) if isinstance(data, dict) else {}


def _touched(root: Path) -> list[tuple[str, str | None, str]]:
    out = scm.git("log", "--reverse", "--format=%H %P", "--", FILE, cwd=root)
    rows = [line.split() for line in out.splitlines()]
    return [(row[0], row[1] if len(row) > 1 else None, FILE) for row in rows]


def test_each_commit_reports_the_items_it_added_changed_and_removed(git_repo: Path) -> None:
    gen_tree(git_repo, {FILE: "items: {a: {n: 1}, b: {n: 1}}\n"}, commit="add a and b")
    gen_tree(git_repo, {FILE: "items: {a: {n: 2}, b: {n: 1}, c: {n: 1}}\n"}, commit="change a")
    gen_tree(git_repo, {FILE: "items: {c: {n: 1}}\n"}, commit="remove a and b")
    first, second, third = (c for c, _, _ in _touched(git_repo))
    changes = read_item_changes(git_repo, _touched(git_repo), items=_items)
    assert changes == [
        ItemChange(commit=first, path=FILE, key="a", before=None, after={"n": 1}),
        ItemChange(commit=first, path=FILE, key="b", before=None, after={"n": 1}),
        ItemChange(commit=second, path=FILE, key="a", before={"n": 1}, after={"n": 2}),
        ItemChange(commit=second, path=FILE, key="c", before=None, after={"n": 1}),
        ItemChange(commit=third, path=FILE, key="a", before={"n": 2}, after=None),
        ItemChange(commit=third, path=FILE, key="b", before={"n": 1}, after=None),
    ]


def test_the_view_decides_what_counts_as_a_change(git_repo: Path) -> None:
    gen_tree(git_repo, {FILE: "items: {a: {n: 1, note: x}}\n"}, commit="add a")
    gen_tree(git_repo, {FILE: "items: {a: {n: 1, note: y}}\n"}, commit="edit a note")
    changes = read_item_changes(
        git_repo, _touched(git_repo), items=_items, view=lambda item: (item or {}).get("n")
    )
    assert [c.key for c in changes] == ["a"]  # the note edit is not a change of n


def test_a_version_that_is_not_yaml_counts_as_empty_with_a_warning(
    git_repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gen_tree(git_repo, {FILE: "items: {a: {n: 1}}\n"}, commit="add a")
    gen_tree(git_repo, {FILE: "items: [\n"}, commit="break the file")
    gen_tree(git_repo, {FILE: "items: {a: {n: 1}}\n"}, commit="repair the file")
    with caplog.at_level(logging.WARNING, logger="mlops_gitops.yamlhistory"):
        changes = read_item_changes(git_repo, _touched(git_repo), items=_items)
    assert [(c.before, c.after) for c in changes] == [
        (None, {"n": 1}),
        ({"n": 1}, None),
        (None, {"n": 1}),
    ]
    broken = _touched(git_repo)[1][0]
    assert f"{broken[:8]}:{FILE}:2: not valid YAML" in caplog.text
    assert "its changes are left out of the history" in caplog.text
