"""The local forge: a bare repository with server-side hooks, notes and signed tags.

``mlops forge init PATH`` creates it (or adopts an existing bare repository):
the post-receive hook queues a pipeline run for each pushed branch, the
pre-receive hook enforces the gate and the approvals. Reports and gate
decisions are notes (``refs/notes/mlops-reports``, ``refs/notes/mlops-gate``)
that only the runner writes; issues (monitoring alerts) are JSON files on
``refs/notes/mlops-issues`` (:mod:`mlops_gitops.forge.issues`); clones fetch
all of them with ``mlops forge track``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.forge import issues, notes, records, signed_approvals
from mlops_gitops.forge.base import Approval, ChangeRef, ForgeError, GateStatus, Publication, Report
from mlops_gitops.forge.receipts import SIGNERS_FILE
from mlops_gitops.roundtrip import write_atomic

log = logging.getLogger(__name__)

REPORTS_REF = "refs/notes/mlops-reports"
GATE_REF = records.GATE_REF
NOTES_REFSPEC = "+refs/notes/mlops-*:refs/notes/mlops-*"
SIGNERS_PATH = "policies/allowed_signers"
CONFIG_FILE = "mlops-forge.json"
HOOKS = ("pre-receive", "post-receive")
HOOK_TEMPLATE = """#!/bin/sh
# Installed by 'mlops forge init'; reinstall with it after moving the toolkit.
# {what}
exec {python} -m mlops_gitops forge hook {name}
"""
HOOK_PURPOSE = {
    "pre-receive": "Enforce the gate and the approvals the policies require (rejects the push).",
    "post-receive": "Queue a pipeline run for each pushed branch (never does the work itself).",
}


@dataclass(frozen=True)
class ForgeConfig:
    """Settings of a local forge, kept in ``PATH/mlops-forge.json``."""

    protected: tuple[str, ...] = ("main",)
    signers_path: str = SIGNERS_PATH
    max_attempts: int = 3
    require_signed_push: bool = False


@dataclass(frozen=True)
class InitForgeResult:
    """What ``init_forge`` created or updated."""

    path: Path
    created: bool
    hooks: tuple[str, ...]
    python: str


def init_forge(path: str | os.PathLike[str], *, python: str | None = None) -> InitForgeResult:
    """Create (or adopt) the bare repository ``path`` and install the hooks.

    Args:
        path: the bare repository; created with ``main`` as its first branch.
        python: the interpreter the hooks run; defaults to this one.

    Raises:
        ForgeError: ``path`` exists and is not a bare repository.
    """
    target = Path(path).resolve()
    created = not target.exists() or not any(target.iterdir())
    if created:
        scm.git("init", "-q", "--bare", "-b", "main", str(target))
    elif scm.git("rev-parse", "--is-bare-repository", cwd=target, check=False).strip() != "true":
        raise ForgeError(f"{target}: exists and is not a bare repository; choose a new path")
    interpreter = python or sys.executable
    for name in HOOKS:
        hook = target / "hooks" / name
        text = HOOK_TEMPLATE.format(
            what=HOOK_PURPOSE[name], python=shlex.quote(interpreter), name=name
        )
        _write_executable(hook, text)
    config_path = target / CONFIG_FILE
    if not config_path.exists():
        write_atomic(
            config_path,
            json.dumps({"protected": ["main"], "signers_path": SIGNERS_PATH}, indent=2) + "\n",
        )
    _accept_signed_pushes(target)
    log.info("local forge at %s (hooks run %s)", target, interpreter)
    return InitForgeResult(target, created, HOOKS, interpreter)


def read_config(git_dir: str | os.PathLike[str]) -> ForgeConfig:
    """Return the forge settings of ``git_dir`` (defaults when the file is absent)."""
    path = Path(git_dir) / CONFIG_FILE
    if not path.exists():
        return ForgeConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ForgeConfig(
            protected=tuple(data.get("protected", ["main"])),
            signers_path=str(data.get("signers_path", SIGNERS_PATH)),
            max_attempts=int(data.get("max_attempts", 3)),
            require_signed_push=bool(data.get("require_signed_push", False)),
        )
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ForgeError(
            f"{path}: not a valid forge config; expected {{'protected': [...]}}"
        ) from exc


def _accept_signed_pushes(git_dir: Path) -> None:
    """Let ``git push --signed`` authenticate pushers against main's allowed signers."""
    if not scm.git_ok("config", "--get", "receive.certNonceSeed", cwd=git_dir):
        scm.git("config", "receive.certNonceSeed", secrets.token_hex(32), cwd=git_dir)
    scm.git("config", "gpg.ssh.allowedSignersFile", str(git_dir / SIGNERS_FILE), cwd=git_dir)
    sync_signers(git_dir)


def sync_signers(git_dir: str | os.PathLike[str], branch: str = "main") -> str:
    """Copy ``branch``'s allowed signers where push certificates verify; return the text."""
    text = scm.show_file(f"refs/heads/{branch}", SIGNERS_PATH, git_dir) or ""
    write_atomic(Path(git_dir) / SIGNERS_FILE, text)
    return text


def track_notes(repo: str | os.PathLike[str], remote: str = "origin") -> bool:
    """Make ``repo`` fetch the forge's report and gate notes from ``remote``; return if added."""
    key = f"remote.{remote}.fetch"
    current = scm.git("config", "--get-all", key, cwd=repo, check=False).split()
    if NOTES_REFSPEC in current:
        return False
    scm.git("config", "--add", key, NOTES_REFSPEC, cwd=repo)
    return True


class LocalForge:
    """The :class:`~mlops_gitops.forge.base.Forge` of a bare repository on this machine."""

    name = "local"

    def __init__(self, git_dir: str | os.PathLike[str]) -> None:
        self.git_dir = Path(git_dir)
        if not scm.git_ok("rev-parse", "--git-dir", cwd=self.git_dir):
            raise ForgeError(
                f"{self.git_dir}: not a git repository; run 'mlops forge init {self.git_dir}'"
            )
        self.config = read_config(self.git_dir)

    def publish_report(self, target: ChangeRef, report: Report) -> Publication:
        """Store the report as the note of ``target.sha``, its plots beside it."""
        links = {name: f"plots/{target.sha}/{name}" for name in report.attachments}
        text = f"{report.with_links(links).rstrip()}\n\n{report.marker()}\n"
        files = {links[name]: data for name, data in report.attachments.items()}
        created = notes.write_note(
            self.git_dir,
            REPORTS_REF,
            target.sha,
            text,
            files=files,
            message=f"mlops: report of {target.sha[:12]}",
        )
        return Publication(f"{REPORTS_REF}:{target.sha}", created)

    def set_gate(self, target: ChangeRef, gate: GateStatus) -> Publication:
        """Store the gate decision as the JSON note of ``target.sha``, its evidence beside it."""
        created = notes.read_note(self.git_dir, GATE_REF, target.sha) is None
        self.keep_notes(records.gate_updates(target, gate))
        return Publication(f"{GATE_REF}:{target.sha}", created)

    def keep_notes(self, updates: Sequence[records.NoteUpdate]) -> None:
        """Write the notes into the forge itself (clients cannot push ``refs/notes/mlops-*``)."""
        records.write_updates(self.git_dir, updates)

    def read_report(self, target: ChangeRef, key: str = "train") -> str | None:
        """Return the report note of ``target.sha``."""
        return notes.read_note(self.git_dir, REPORTS_REF, target.sha)

    def read_gate(self, target: ChangeRef) -> GateStatus | None:
        """Return the gate decision noted on ``target.sha``."""
        text = notes.read_note(self.git_dir, GATE_REF, target.sha)
        if text is None:
            return None
        try:
            data = json.loads(text)
            return GateStatus(
                decision=data["decision"],
                summary=data["summary"],
                details=data.get("details", ""),
                data=data.get("data", {}),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ForgeError(f"{GATE_REF} note of {target.sha[:12]}: not a gate decision") from exc

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        """Commit the issue to ``refs/notes/mlops-issues``; return where it is stored."""
        return issues.open_issue(self.git_dir, title, body, labels).location

    def list_issues(self) -> list[issues.Issue]:
        """Return the forge's issues, by number."""
        return issues.list_issues(self.git_dir)

    def read_attachment(self, target: ChangeRef, name: str) -> bytes | None:
        """Return a plot stored beside the report of ``target``."""
        return notes.read_attachment(self.git_dir, REPORTS_REF, f"plots/{target.sha}/{name}")

    def list_approvals(self, target: ChangeRef) -> list[Approval]:
        """Return the verified signed approvals, against the signers of ``target.base``."""
        return self.approvals_for(target.base)

    def list_authors(self, target: ChangeRef) -> list[str]:
        """Return no identity: a bare repository knows its pushers only while they push.

        The pre-receive hook judges self-approval by the pusher and the
        signatures it verifies, not by this call.
        """
        return []

    def approvals_for(
        self, trusted_rev: str, *, pending: dict[str, str] | None = None
    ) -> list[Approval]:
        """Return the approvals whose signatures verify against the signers at ``trusted_rev``."""
        signers = self.read_signers(trusted_rev)
        tags = signed_approvals.list_approval_tags(self.git_dir, pending=pending)
        return signed_approvals.verify_approvals(self.git_dir, tags, signers=signers)

    def read_signers(self, rev: str) -> str:
        """Return the allowed-signers text at ``rev`` (empty when absent: nobody may approve)."""
        text = scm.show_file(rev, self.config.signers_path, self.git_dir)
        if text is None:
            log.warning("%s:%s not found; no approval can count", rev, self.config.signers_path)
        return text or ""


def _write_executable(path: Path, text: str) -> None:
    write_atomic(path, text)
    path.chmod(0o755)


def show_report(path: str | os.PathLike[str], rev: str = "HEAD") -> str:
    """Return the report the runner noted on ``rev`` in the repository at ``path``.

    Raises:
        ForgeError: no report is noted on ``rev`` (yet).
    """
    forge, target = _noted_target(path, rev)
    found = forge.read_report(target)
    if found is None:
        raise ForgeError(_not_noted("report", target))
    return found


def show_gate(path: str | os.PathLike[str], rev: str = "HEAD") -> GateStatus:
    """Return the gate decision the runner noted on ``rev`` in the repository at ``path``.

    Raises:
        ForgeError: no gate decision is noted on ``rev`` (yet).
    """
    forge, target = _noted_target(path, rev)
    found = forge.read_gate(target)
    if found is None:
        raise ForgeError(_not_noted("gate decision", target))
    return found


def _noted_target(path: str | os.PathLike[str], rev: str) -> tuple[LocalForge, ChangeRef]:
    forge = LocalForge(path)
    return forge, ChangeRef(scm.rev_parse(rev, path), "")


def _not_noted(what: str, target: ChangeRef) -> str:
    return f"no {what} on {target.sha[:12]}; run 'git fetch' once the runner is done"
