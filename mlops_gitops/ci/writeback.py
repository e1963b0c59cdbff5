"""The runner's one channel back into the forge: the pipeline's declared outputs, as a commit.

What a job changed in its work tree is listed, checked against the outputs,
metrics and plots that the pushed commit's ``dvc.yaml`` files declare (plus
their ``dvc.lock`` and DVC's ``.gitignore`` files), and only then written
into the forge: each file's bytes become a blob there, the commit is built
on a temporary index from the pushed commit's tree, and the branch moves
by compare-and-swap. No git command runs in the forge with the work tree's
config, hooks or objects.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops import pipeline, scm
from mlops_gitops.forge.base import ForgeError

RUNNER_NAME, RUNNER_EMAIL = "mlops runner", "mlops-runner@localhost"
# The runner's own git calls in its work tree run no hooks and no fsmonitor.
SAFE_GIT = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
# Never an output, whatever a dvc.yaml declares: what decides, configures or deploys.
NEVER_WRITTEN = ("policies/", "envs/", ".github/", ".dvc/")
NEVER_WRITTEN_NAMES = ("dvc.yaml", ".gitattributes", ".gitmodules")


@dataclass(frozen=True)
class Change:
    """One path the pipeline changed: its bytes and mode (``None`` when deleted)."""

    path: str
    data: bytes | None
    mode: str = "100644"


def list_changes(work: Path) -> list[str]:
    """Return the paths that differ from the checked-out commit (untracked files included)."""
    out = scm.git(*SAFE_GIT, "status", "--porcelain", "-z", "--untracked-files=all", cwd=work)
    return sorted(entry[3:] for entry in out.split("\0") if entry)


def check_changes(forge: Path, sha: str, paths: list[str]) -> None:
    """Refuse any changed path that the pipeline of ``sha`` does not declare as an output.

    Raises:
        ForgeError: the pipeline changed other files (one line, naming them).
    """
    declared = pipeline.declared_outputs(_dvc_yamls(forge, sha))
    undeclared = [
        p for p in paths if _is_protected(p) or not pipeline.is_declared_output(p, declared)
    ]
    if undeclared:
        shown = ", ".join(undeclared[:5]) + (" ..." if len(undeclared) > 5 else "")
        raise ForgeError(
            f"the pipeline of {sha[:12]} changed files that no dvc.yaml declares as outputs "
            f"({shown}); nothing was committed back: declare them as outs, metrics or plots"
        )


def read_changes(work: Path, paths: list[str]) -> list[Change]:
    """Read each changed file of the work tree (a regular file, never followed through a link).

    Raises:
        ForgeError: a changed path is a link or not a regular file.
    """
    changes = []
    for path in paths:
        target = work / path
        try:
            info = target.lstat()
        except FileNotFoundError:
            changes.append(Change(path, None))
            continue
        if not stat.S_ISREG(info.st_mode):
            raise ForgeError(
                f"{path}: the pipeline left a link or special file; not committed back"
            )
        mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
        changes.append(Change(path, target.read_bytes(), mode))
    return changes


def commit_in_forge(forge: Path, parent: str, changes: list[Change], message: str) -> str:
    """Write ``changes`` on top of ``parent`` as a new commit in the forge; return it."""
    with tempfile.TemporaryDirectory(prefix="mlops-writeback-") as scratch:
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_AUTHOR_NAME": RUNNER_NAME,
            "GIT_AUTHOR_EMAIL": RUNNER_EMAIL,
            "GIT_COMMITTER_NAME": RUNNER_NAME,
            "GIT_COMMITTER_EMAIL": RUNNER_EMAIL,
        }
        scm.git("read-tree", parent, cwd=forge, env=env)
        for change in changes:
            if change.data is None:
                scm.git("update-index", "--force-remove", "--", change.path, cwd=forge, env=env)
                continue
            blob = scm.git(
                "hash-object", "-w", "--no-filters", "--stdin", cwd=forge, input=change.data
            )
            info = f"{change.mode},{blob.strip()},{change.path}"
            scm.git("update-index", "--add", "--cacheinfo", info, cwd=forge, env=env)
        tree = scm.git("write-tree", cwd=forge, env=env).strip()
        return scm.git("commit-tree", tree, "-p", parent, "-m", message, cwd=forge, env=env).strip()


def _dvc_yamls(forge: Path, sha: str) -> dict[str, str]:
    listing = scm.git("ls-tree", "-r", "-z", "--name-only", sha, cwd=forge)
    names = [p for p in listing.split("\0") if p == "dvc.yaml" or p.endswith("/dvc.yaml")]
    return {name: scm.show_file(sha, name, forge) or "" for name in names}


def _is_protected(path: str) -> bool:
    return path.startswith(NEVER_WRITTEN) or os.path.basename(path) in NEVER_WRITTEN_NAMES
