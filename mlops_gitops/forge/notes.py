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
    for _ in range(ATTEMPTS):
        old = _ref_value(git_dir, ref)
        created, commit = _build_commit(git_dir, old, sha, text, files=files or {}, message=message)
        if scm.git_ok("update-ref", ref, commit, old or ZERO_SHA, cwd=git_dir):
            log.info("wrote %s note for %s", ref, sha[:12])
            return created
        log.info("%s moved while writing; retrying", ref)
    raise ForgeError(f"{ref}: could not write the note of {sha[:12]}; concurrent writers, retry")


def _ref_value(git_dir: str | os.PathLike[str], ref: str) -> str | None:
    code, out, _ = scm.git_status("rev-parse", "--verify", "--quiet", ref, cwd=git_dir)
    return out.strip() if code == 0 else None


def _build_commit(
    git_dir: str | os.PathLike[str],
    old: str | None,
    sha: str,
    text: str,
    *,
    files: Mapping[str, bytes],
    message: str,
) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="mlops-notes-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if old:
            scm.git("read-tree", old, cwd=git_dir, env=env)
        existing = [
            p for p in scm.git("ls-files", cwd=git_dir, env=env).splitlines() if _is_note_of(p, sha)
        ]
        lines = [f"0 {ZERO_SHA}\t{path}" for path in existing]
        lines.append(f"100644 {_blob(git_dir, text.encode())}\t{sha}")
        lines += [f"100644 {_blob(git_dir, data)}\t{path}" for path, data in sorted(files.items())]
        scm.git("update-index", "--index-info", cwd=git_dir, env=env, input="\n".join(lines) + "\n")
        tree = scm.git("write-tree", cwd=git_dir, env=env).strip()
    parents = ["-p", old] if old else []
    commit = scm.git(*IDENTITY, "commit-tree", tree, *parents, "-m", message, cwd=git_dir).strip()
    return not existing, commit


def _is_note_of(path: str, sha: str) -> bool:
    """Return whether a notes-tree path is the note of ``sha`` (in any fan-out)."""
    return path.replace("/", "") == sha


def _blob(git_dir: str | os.PathLike[str], data: bytes) -> str:
    return scm.git("hash-object", "-w", "--stdin", cwd=git_dir, input=data).strip()
