"""Git notes with attachments: the local forge's store for reports and gate decisions.

A note is a blob keyed by the commit it describes (``refs/notes/NAME``);
attachments such as plot images are extra files in the same notes tree
(``plots/<sha>/roc.png``), which git keeps beside the notes and clones fetch
with them. Writes build the new notes commit in a temporary index and move
the ref with a compare-and-swap, retried when a concurrent writer won.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.forge.base import ZERO_SHA, ForgeError

log = logging.getLogger(__name__)

IDENTITY = ("-c", "user.name=mlops", "-c", "user.email=mlops@localhost")
ATTEMPTS = 5


def read_note(git_dir: str | os.PathLike[str], ref: str, sha: str) -> str | None:
    """Return the note of ``sha`` under ``ref``, or None when there is none."""
    code, out, _ = scm.git_status("notes", f"--ref={ref}", "show", sha, cwd=git_dir)
    return out if code == 0 else None


def read_attachment(git_dir: str | os.PathLike[str], ref: str, path: str) -> bytes | None:
    """Return the file ``path`` of the notes tree ``ref``, or None."""
    if not scm.git_ok("cat-file", "-e", f"{ref}:{path}", cwd=git_dir):
        return None
    return scm.git_bytes("cat-file", "blob", f"{ref}:{path}", cwd=git_dir)


def write_note(
    git_dir: str | os.PathLike[str],
    ref: str,
    sha: str,
    text: str,
    *,
    files: Mapping[str, bytes] | None = None,
    message: str = "mlops: note",
) -> bool:
    """Set the note of ``sha`` under ``ref`` (replacing it) and add ``files`` beside it.

    Returns:
        whether the note is new (False when an existing note was replaced).

    Raises:
        ForgeError: the ref kept moving under concurrent writers.
    """
    return sha in write_notes(git_dir, ref, {sha: text}, files=files, message=message)


def write_notes(
    git_dir: str | os.PathLike[str],
    ref: str,
    notes: Mapping[str, str],
    *,
    files: Mapping[str, bytes] | None = None,
    message: str = "mlops: note",
) -> set[str]:
    """Set the notes of several objects under ``ref`` in one notes commit.

    Returns:
        the objects whose note is new (the others replaced an existing note).

    Raises:
        ForgeError: the ref kept moving under concurrent writers.
    """
    for _ in range(ATTEMPTS):
        old = _ref_value(git_dir, ref)
        created, commit = _build_commit(git_dir, old, notes, files=files or {}, message=message)
        if scm.git_ok("update-ref", ref, commit, old or ZERO_SHA, cwd=git_dir):
            log.info("wrote %d %s note(s)", len(notes), ref)
            return created
        log.info("%s moved while writing; retrying", ref)
    first = next(iter(notes), "")
    raise ForgeError(f"{ref}: could not write the note of {first[:12]}; concurrent writers, retry")


def _ref_value(git_dir: str | os.PathLike[str], ref: str) -> str | None:
    code, out, _ = scm.git_status("rev-parse", "--verify", "--quiet", ref, cwd=git_dir)
    return out.strip() if code == 0 else None


def _build_commit(
    git_dir: str | os.PathLike[str],
    old: str | None,
    notes: Mapping[str, str],
    *,
    files: Mapping[str, bytes],
    message: str,
) -> tuple[set[str], str]:
    with tempfile.TemporaryDirectory(prefix="mlops-notes-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if old:
            scm.git("read-tree", old, cwd=git_dir, env=env)
        existing = [
            p
            for p in scm.git("ls-files", cwd=git_dir, env=env).splitlines()
            if p.replace("/", "") in notes
        ]
        entries = {**{sha: t.encode() for sha, t in notes.items()}, **dict(sorted(files.items()))}
        blobs = _blobs(git_dir, list(entries.values()), Path(tmp))
        lines = [f"0 {ZERO_SHA}\t{path}" for path in existing]
        lines += [f"100644 {blob}\t{path}" for path, blob in zip(entries, blobs, strict=True)]
        scm.git("update-index", "--index-info", cwd=git_dir, env=env, input="\n".join(lines) + "\n")
        tree = scm.git("write-tree", cwd=git_dir, env=env).strip()
    parents = ["-p", old] if old else []
    commit = scm.git(*IDENTITY, "commit-tree", tree, *parents, "-m", message, cwd=git_dir).strip()
    replaced = {p.replace("/", "") for p in existing}
    return set(notes) - replaced, commit


def _blobs(git_dir: str | os.PathLike[str], contents: list[bytes], tmp: Path) -> list[str]:
    """Write the blobs with one ``hash-object --stdin-paths``; return their ids in order."""
    paths = []
    for index, data in enumerate(contents):
        path = tmp / f"blob-{index}"
        path.write_bytes(data)
        paths.append(str(path))
    out = scm.git("hash-object", "-w", "--stdin-paths", cwd=git_dir, input="\n".join(paths) + "\n")
    return out.split()
