"""The local forge's hooks as functions: what a push may do; what gets queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gitops.ci import RefUpdate, parse_updates, post_receive, pre_receive
from mlops_gitops.ci.changed_envs import changed_environments
from mlops_gitops.forge.base import ZERO_SHA
from mlops_gitops.forge.local import init_forge
from tests.helpers import sh


@pytest.fixture
def forge(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """A local forge with main at ``first``, and a clone one commit (``second``) ahead."""
    bare = init_forge(tmp_path / "forge.git").path
    for hook in ("pre-receive", "post-receive"):
        (bare / "hooks" / hook).unlink()
    clone = tmp_path / "clone"
    sh(f"git clone -q {bare} clone", tmp_path)
    (clone / "a.txt").write_text("a\n")
    sh("git add -A && git commit -qm first && git push -q origin main", clone)
    first = sh("git rev-parse HEAD", clone).stdout.strip()
    (clone / "envs").mkdir()
    (clone / "envs" / "prod.yaml").write_text("models: {}\n")
    sh("git add -A && git commit -qm second && git push -q origin HEAD:refs/heads/next", clone)
    return bare, clone, first, sh("git rev-parse HEAD", clone).stdout.strip()


def test_parse_updates_reads_the_hook_input() -> None:
    text = f"{ZERO_SHA} {'a' * 40} refs/heads/x\nnoise\n"
    assert parse_updates(text) == [RefUpdate(ZERO_SHA, "a" * 40, "refs/heads/x")]


def test_post_receive_queues_branches_but_not_tags_or_deletions(
    forge: tuple[Path, Path, str, str],
) -> None:
    bare, _, first, second = forge
    updates = [
        RefUpdate(first, second, "refs/heads/next"),
        RefUpdate(ZERO_SHA, second, "refs/tags/v1"),
        RefUpdate(first, ZERO_SHA, "refs/heads/old"),
    ]
    assert [(j.branch, j.sha) for j in post_receive(bare, updates)] == [("next", second)]


@pytest.mark.parametrize(
    ("ref", "old", "new", "message"),
    [
        ("refs/notes/mlops-gate", ZERO_SHA, "NEW", "written by the forge only"),
        ("refs/tags/approve/prod/" + "f" * 40 + "/eve", "OLD", "NEW", "cannot be moved or deleted"),
        (
            "refs/tags/approve/prod/short/eve",
            ZERO_SHA,
            "NEW",
            "expected refs/tags/approve/<env>/<40-hex sha>/<user>",
        ),
        ("refs/heads/main", "OLD", ZERO_SHA, "a protected branch cannot be deleted"),
    ],
)
def test_pre_receive_refuses_what_clients_may_not_do(
    forge: tuple[Path, Path, str, str], ref: str, old: str, new: str, message: str
) -> None:
    bare, _, first, second = forge
    shas = {"OLD": first, "NEW": second}
    update = RefUpdate(shas.get(old, old), shas.get(new, new), ref)

    [problem] = pre_receive(bare, [update])

    assert message in problem


def test_pre_receive_refuses_a_history_rewrite_of_main(forge: tuple[Path, Path, str, str]) -> None:
    bare, clone, first, _ = forge
    sh("git checkout -q --orphan other && git commit -qm unrelated", clone)
    unrelated = sh("git rev-parse HEAD", clone).stdout.strip()
    sh("git push -q origin other", clone)

    assert pre_receive(bare, [RefUpdate(first, unrelated, "refs/heads/main")]) == [
        "main: history rewrite refused; push a fast-forward or a merge"
    ]


def test_pre_receive_lets_other_branches_and_new_main_through(
    forge: tuple[Path, Path, str, str],
) -> None:
    bare, _, first, second = forge
    updates = [
        RefUpdate(first, second, "refs/heads/next"),
        RefUpdate(ZERO_SHA, first, "refs/heads/main"),
    ]
    assert pre_receive(bare, updates) == []


def test_changed_environments_lists_edited_manifests(forge: tuple[Path, Path, str, str]) -> None:
    _, clone, first, second = forge
    assert changed_environments(clone, first, second) == ["prod"]
    assert changed_environments(clone, ZERO_SHA, first) == []


def _commit_ahead(clone: Path, base: str, name: str) -> str:
    sh(f"git checkout -q --detach {base}", clone)
    (clone / name).write_text(name)
    sh(f"git add {name} && git commit -qm {name}", clone)
    sh("git push -q origin HEAD:refs/heads/candidate", clone)
    return sh("git rev-parse HEAD", clone).stdout.strip()


@pytest.mark.parametrize(
    ("decision", "allowed"), [("pass", True), ("warn", True), ("block", False)]
)
def test_main_moves_only_to_a_tip_the_runner_let_through(
    forge: tuple[Path, Path, str, str], decision: str, allowed: bool
) -> None:
    from mlops_gitops.forge import ChangeRef, GateStatus
    from mlops_gitops.forge.local import LocalForge

    bare, clone, first, _ = forge
    tip = _commit_ahead(clone, first, "b.txt")
    LocalForge(bare).set_gate(
        ChangeRef(tip, "candidate"), GateStatus(decision=decision, summary=f"rules say {decision}")
    )  # type: ignore[arg-type]

    problems = pre_receive(bare, [RefUpdate(first, tip, "refs/heads/main")])

    assert problems == ([] if allowed else [f"main: the gate blocks {tip[:12]}: rules say block"])


def test_a_promotion_without_policies_is_refused(forge: tuple[Path, Path, str, str]) -> None:
    bare, _, first, second = forge

    [problem] = pre_receive(bare, [RefUpdate(first, second, "refs/heads/main")])

    assert problem.startswith("main: the promotion gate could not decide:")
