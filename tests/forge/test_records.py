"""Notes pushed to a hosted forge: written on top of the remote's, retried when refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gitops.forge import ForgeError
from mlops_gitops.forge.records import NoteUpdate, push_notes
from tests.helpers import sh_stdout as sh

REF = "refs/notes/mlops-gate"


def _clone(bare: Path, where: Path) -> Path:
    sh(f"git clone -q {bare} {where}", where.parent)
    return where


def _note(repo: Path, sha: str) -> str:
    return sh(f"git notes --ref={REF} show {sha}", repo)


def test_a_writer_with_stale_notes_keeps_the_remote_notes(
    hosted: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, work = hosted
    first, second = (sh(f"git rev-parse {r}", work).strip() for r in ("main", "feature"))
    other = _clone(bare, tmp_path / "other")

    push_notes(work, [NoteUpdate(REF, {first: "one\n"})])
    push_notes(other, [NoteUpdate(REF, {second: "two\n"})])
    fresh = _clone(bare, tmp_path / "fresh")
    sh(f"git fetch -q origin '+{REF}:{REF}'", fresh)

    assert (_note(fresh, first), _note(fresh, second)) == ("one\n", "two\n")


def test_a_refused_push_is_retried_from_the_remote_notes(
    hosted: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, work = hosted
    sha = sh("git rev-parse main", work).strip()
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        '#!/bin/sh\n[ -f "$GIT_DIR/refused" ] && exit 0\ntouch "$GIT_DIR/refused"\nexit 1\n'
    )
    hook.chmod(0o755)

    push_notes(work, [NoteUpdate(REF, {sha: "kept\n"})])

    assert (bare / "refused").exists()
    assert sh(f"git notes --ref={REF} show {sha}", bare) == "kept\n"


def test_a_remote_that_keeps_refusing_is_a_one_line_forge_error(hosted: tuple[Path, Path]) -> None:
    bare, work = hosted
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'notes are closed' >&2\nexit 1\n")
    hook.chmod(0o755)

    with pytest.raises(ForgeError, match=f"origin: could not push {REF}: "):
        push_notes(work, [NoteUpdate(REF, {"a" * 40: "x\n"})])
