"""Process groups a runner leaves behind are ended as a whole, and only when they are its own."""

from __future__ import annotations

import subprocess

from mlops_gitops.forge.processes import ProcessGroup, end_group, find_group, list_members


def test_a_group_is_ended_with_its_children_even_when_it_ignores_term() -> None:
    # a shell that ignores TERM, with a child of its own: KILL after the grace period ends both
    proc = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    group = find_group(proc.pid)
    assert group is not None

    assert end_group(group, grace=0.2) is True

    proc.wait()
    assert list_members(group) == []


def test_a_group_whose_id_now_belongs_to_another_process_is_left_alone() -> None:
    proc = subprocess.Popen(
        ["sh", "-c", "read line"], stdin=subprocess.PIPE, start_new_session=True
    )
    group = find_group(proc.pid)
    assert group is not None
    reused = ProcessGroup(group.pgid, group.started + 1)  # as if recorded for an older process

    assert list_members(reused) == []
    assert end_group(reused, grace=0.1) is False
    assert proc.poll() is None
    proc.communicate(b"\n")


def test_a_gone_group_needs_no_ending() -> None:
    proc = subprocess.Popen(["true"], start_new_session=True)
    group = ProcessGroup(proc.pid, 0)
    proc.wait()

    assert end_group(group) is False
