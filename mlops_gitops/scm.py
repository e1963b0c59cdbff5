"""The only module that runs git.

Every git call of the toolkit goes through :func:`git`, which runs the git
command line in a repository and turns a failure into a one-line
:class:`~mlops_gitops.errors.ScmError`. Concept modules build on these
primitives; reads that touch many refs or objects use one batched call
(``for-each-ref``, ``cat-file --batch``), never one process per object.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mlops_gitops.errors import ScmError

GIT_ENV_CLEAN = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
SSH_SIGNATURE = "-----BEGIN SSH SIGNATURE-----"
_GOOD_SIGNATURE = re.compile(r'^Good "git" signature for (?P<principal>\S+) with ', re.MULTILINE)


def git(
    *args: str,
    cwd: str | os.PathLike[str] = ".",
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> str:
    """Run ``git ARGS`` in ``cwd`` and return its stdout as text.

    Raises:
        ScmError: git exited non-zero (when ``check``) or is not installed.
    """
    return _run(args, cwd=cwd, input=input, env=env, check=check).stdout.decode()


def git_bytes(
    *args: str,
    cwd: str | os.PathLike[str] = ".",
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git ARGS`` and return its raw stdout."""
    return _run(args, cwd=cwd, input=input, env=env, check=True).stdout


def git_ok(*args: str, cwd: str | os.PathLike[str] = ".") -> bool:
    """Return whether ``git ARGS`` exits 0 (for predicates such as ``rev-parse --verify``)."""
    return _run(args, cwd=cwd, input=None, env=None, check=False).returncode == 0


def _run(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    input: str | bytes | None,
    env: Mapping[str, str] | None,
    check: bool,
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, **GIT_ENV_CLEAN, **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=data, env=full_env, capture_output=True, check=False
        )
    except FileNotFoundError as exc:
        raise ScmError("git is not installed or not on PATH") from exc
    except NotADirectoryError as exc:
        raise ScmError(f"{cwd}: not a directory") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        reason = message[-1] if message else f"exit status {proc.returncode}"
        raise ScmError(f"git {args[0]} failed in {cwd}: {reason}")
    return proc


def find_root(start: str | os.PathLike[str] = ".") -> Path:
    """Return the top folder of the git work tree that holds ``start``."""
    path = Path(start)
    if not git_ok("rev-parse", "--is-inside-work-tree", cwd=path):
        raise ScmError(
            f"{path.resolve()}: not inside a git repository; run 'git init' or 'mlops init'"
        )
    return Path(git("rev-parse", "--show-toplevel", cwd=path).strip())


def rev_parse(rev: str, cwd: str | os.PathLike[str] = ".") -> str:
    """Return the full commit id that ``rev`` names."""
    if not git_ok("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=cwd):
        raise ScmError(f"'{rev}' does not name a commit in {Path(cwd).resolve()}")
    return git("rev-parse", f"{rev}^{{commit}}", cwd=cwd).strip()


def current_branch(cwd: str | os.PathLike[str] = ".") -> str | None:
    """Return the checked-out branch name, or None on a detached HEAD."""
    out = git("symbolic-ref", "--quiet", "--short", "HEAD", cwd=cwd, check=False).strip()
    return out or None


def is_dirty(cwd: str | os.PathLike[str] = ".", *, untracked: bool = False) -> bool:
    """Return whether the work tree has uncommitted changes to tracked files."""
    mode = "--untracked-files=normal" if untracked else "--untracked-files=no"
    return bool(git("status", "--porcelain", mode, cwd=cwd).strip())


def show_file(rev: str, path: str, cwd: str | os.PathLike[str] = ".") -> str | None:
    """Return the text of ``path`` at ``rev``, or None when it does not exist there."""
    proc = _run(["show", f"{rev}:{path}"], cwd=cwd, input=None, env=None, check=False)
    return proc.stdout.decode() if proc.returncode == 0 else None


def cat_file_batch(
    objects: Sequence[str], cwd: str | os.PathLike[str] = ".", *, follow_symlinks: bool = False
) -> Iterator[tuple[str, str, bytes | None]]:
    """Yield ``(name, type, content)`` for many objects with one ``cat-file --batch``.

    A missing object yields ``(name, "missing", None)``. With
    ``follow_symlinks``, ``REV:PATH`` names follow symbolic links inside the tree.
    """
    if not objects:
        return
    flags = ["--follow-symlinks"] if follow_symlinks else []
    data = ("\n".join(objects) + "\n").encode()
    out = git_bytes("cat-file", "--batch", *flags, cwd=cwd, input=data)
    pos = 0
    for name in objects:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        pos = end + 1
        if len(header) == 2 and header[1] == "missing":
            yield name, "missing", None
            continue
        size = int(header[2])
        yield name, header[1], out[pos : pos + size]
        pos += size + 1


def read_notes(ref: str, cwd: str | os.PathLike[str] = ".") -> dict[str, str]:
    """Return every note under ``ref`` (annotated object -> text) with two git calls."""
    proc = _run(["notes", f"--ref={ref}", "list"], cwd=cwd, input=None, env=None, check=False)
    out = proc.stdout.decode()
    if proc.returncode != 0 or not out.strip():
        return {}
    pairs = [line.split() for line in out.splitlines() if line.strip()]
    texts = {
        name: content.decode("utf-8", "replace")
        for name, kind, content in cat_file_batch(sorted({blob for blob, _ in pairs}), cwd)
        if kind == "blob" and content is not None
    }
    return {obj: texts[blob] for blob, obj in pairs if blob in texts}


def init(path: str | os.PathLike[str], *, branch: str = "main") -> None:
    """Create a git repository at ``path`` with ``branch`` as its first branch."""
    git("init", "-q", "-b", branch, str(path))


def commit_all(message: str, cwd: str | os.PathLike[str] = ".") -> str:
    """Stage everything in the work tree, commit it and return the new commit id."""
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "-m", message, cwd=cwd)
    return rev_parse("HEAD", cwd)


def commit_to_branch(
    root: str | os.PathLike[str],
    *,
    base: str,
    branch: str,
    files: Mapping[str, bytes],
    message: str,
) -> str:
    """Commit ``files`` (path -> content) on top of ``base`` as the new branch ``branch``.

    The work tree, the index and the checked-out branch are not touched: the
    commit is built in a temporary index, and the branch is created only if
    it does not exist yet (so a concurrent writer cannot be overwritten).

    Raises:
        ScmError: the branch exists already, or git refused.
    """
    import tempfile

    if git_ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=root):
        raise ScmError(f"branch '{branch}' exists already; delete it or choose another name")
    with tempfile.TemporaryDirectory(prefix="mlops-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", base, cwd=root, env=env)
        for path, content in files.items():
            blob = git("hash-object", "-w", "--stdin", cwd=root, input=content).strip()
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", cwd=root, env=env)
        tree = git("write-tree", cwd=root, env=env).strip()
    commit = git("commit-tree", tree, "-p", base, "-F", "-", cwd=root, input=message).strip()
    git("update-ref", f"refs/heads/{branch}", commit, "0" * 40, cwd=root)
    return commit


def create_tag(
    root: str | os.PathLike[str],
    name: str,
    target: str,
    message: str,
    *,
    key: str | os.PathLike[str] | None = None,
) -> None:
    """Create the annotated tag ``name`` on ``target`` with ``message`` kept verbatim.

    With ``key`` (an SSH private key file) the tag is SSH-signed.

    Raises:
        ScmError: git cannot create the tag, or the key cannot sign it (nothing is left).
    """
    if key is None:
        git("tag", "-a", "--cleanup=verbatim", "-F", "-", name, target, cwd=root, input=message)
        return
    key_path = Path(key).expanduser()
    if not key_path.is_file():
        raise ScmError(f"cannot sign the tag {name}: {key_path}: no such key file")
    config = ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key_path}")
    args = ("tag", "-s", "--cleanup=verbatim", "-F", "-", name, target)
    code, _, err = git_status(*config, *args, cwd=root, input=message)
    # git 2.39 can exit 0 with the signer's error in the message: check the signature is there.
    if code == 0 and SSH_SIGNATURE in git("cat-file", "tag", name, cwd=root):
        return
    if code == 0:
        git("tag", "-d", name, cwd=root)
    reason = err.strip().splitlines()[-1] if err.strip() else "ssh-keygen did not sign"
    raise ScmError(f"cannot sign the tag {name}: {reason}")


def tag_signer(
    root: str | os.PathLike[str], tag_object: str, signers_file: str | os.PathLike[str]
) -> str | None:
    """Return the principal of ``signers_file`` whose SSH key signed ``tag_object``, or None.

    ``signers_file`` is an ``allowed_signers`` file (``gpg.ssh.allowedSignersFile``):
    a tag signed by a key it does not list, or not signed at all, has no signer.
    """
    config = ("-c", f"gpg.ssh.allowedSignersFile={signers_file}")
    code, out, err = git_status(*config, "verify-tag", tag_object, cwd=root)
    match = _GOOD_SIGNATURE.search(err + out)
    return match["principal"] if code == 0 and match is not None else None


def git_status(
    *args: str,
    cwd: str | os.PathLike[str] = ".",
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run ``git ARGS`` without raising; return ``(exit status, stdout, stderr)``.

    For commands whose verdict is on stderr, such as ``verify-tag``.
    """
    proc = _run(args, cwd=cwd, input=input, env=env, check=False)
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    return proc.returncode, out, err


def git_records(
    *args: str, cwd: str | os.PathLike[str] = ".", separator: str = "\n"
) -> Iterator[str]:
    """Yield the records of ``git ARGS``'s output (split on ``separator``) while git runs.

    For long outputs (a log of the whole history): the caller parses
    records while git still writes them.

    Raises:
        ScmError: git exited non-zero (raised once the output is consumed).
    """
    import codecs
    from io import BufferedReader
    from typing import cast

    full_env = {**os.environ, **GIT_ENV_CLEAN}
    try:
        proc = subprocess.Popen(
            ["git", *args], cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError as exc:
        raise ScmError("git is not installed or not on PATH") from exc
    decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = ""
    stdout = cast("BufferedReader", proc.stdout)  # a pipe
    stderr = cast("BufferedReader", proc.stderr)
    with proc:
        for chunk in iter(lambda: stdout.read1(1 << 16), b""):
            *records, buffer = (buffer + decoder.decode(chunk)).split(separator)
            yield from records
        buffer += decoder.decode(b"", final=True)
        errors = stderr.read().decode(errors="replace").strip().splitlines()
    if proc.returncode != 0:
        reason = errors[-1] if errors else f"exit status {proc.returncode}"
        raise ScmError(f"git {args[0]} failed in {cwd}: {reason}")
    if buffer:
        yield buffer
