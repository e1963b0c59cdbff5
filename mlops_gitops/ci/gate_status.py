"""The gate in CI: evaluate the policies on a change and turn the decision into a status.

The policies come from the base revision, never from the change under
review (a change that weakens a rule takes effect after it merges). The
approvals come from a forge (pull-request reviews or SSH-signed tags),
adapted here to the policy engine's approvals provider.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_gitops import scm
from mlops_gitops.errors import GateBlocked, MlopsError
from mlops_gitops.forge.base import Approval as ForgeApproval
from mlops_gitops.forge.base import ChangeRef, Forge, GateStatus
from mlops_gitops.reports.context import PolicyRow, Verdict

log = logging.getLogger(__name__)

POLICIES_DIR = "policies"


class ForgeApprovals:
    """The approvals a forge holds, as the policy engine's ``ApprovalProvider``."""

    def __init__(
        self,
        approvals: Sequence[ForgeApproval],
        *,
        env: str | Collection[str] | None = None,
        author: str | None = None,
        authors: Sequence[str] = (),
        unattributed: Sequence[str] = (),
    ) -> None:
        """Keep the approvals given for ``env`` (one or several; forge reviews name none).

        ``authors`` are the identities the forge authenticated as makers of the
        change; ``unattributed`` its commits of unknown maker (nothing counts then).
        """
        envs = {env} if isinstance(env, str) else set(env) if env is not None else None
        self.approvals = [a for a in approvals if envs is None or a.env is None or a.env in envs]
        self.author = author
        self.authors = tuple(authors)
        self.unattributed = tuple(unattributed)

    def read_approvals(self, root: Path, head: str) -> Any:
        """Return the approvals (any commit: the engine counts those on ``head``)."""
        from mlops_gitops.policies.approvals import Approval, ApprovalSet

        found = tuple(Approval(a.reviewer, a.commit, source=a.source) for a in self.approvals)
        return ApprovalSet(
            approvals=found,
            author=self.author,
            authors=self.authors,
            unattributed=self.unattributed,
        )


def forge_approvals(
    forge: Forge,
    target: ChangeRef,
    *,
    env: str | Collection[str] | None = None,
    opener: str | None = None,
) -> ForgeApprovals:
    """Return the approvals of a change with the identities that made it, as the forge knows them.

    The identities are the ones the forge attaches (on GitHub the pull
    request's opener, the pushers of its branch and its commits' author and
    committer logins) plus ``opener``; a reviewer who is one of them is judged
    a self-approval.
    """
    authors = list(dict.fromkeys(a for a in (opener, *forge.list_authors(target)) if a))
    return ForgeApprovals(
        forge.list_approvals(target),
        env=env,
        author=authors[0] if authors else None,
        authors=authors[1:],
    )


@dataclass(frozen=True, kw_only=True)
class GateOutcome:
    """A gate decision with what the forge and the report show of it."""

    decision: Any
    status: GateStatus
    verdict: Verdict
    policies: list[PolicyRow]
    record: Path | None


def evaluate_gate(
    root: str | Path,
    *,
    base: str,
    branch: str | None = None,
    environment: str | None = None,
    approvals: Sequence[Any] = (),
    now: datetime | None = None,
    target_url: str | None = None,
) -> GateOutcome:
    """Evaluate the policies of ``base`` on the change checked out at ``root``.

    Args:
        base: the revision the change is compared with (and whose policies apply).
        approvals: approval providers of the policy engine (e.g. :class:`ForgeApprovals`).

    Raises:
        PolicyError: a policy file is not valid or a rule cannot be evaluated.
    """
    from mlops_gitops.policies.collect import GateRequest
    from mlops_gitops.policies.gate import run_gate

    work = Path(root)
    request = GateRequest(
        root=work,
        environment=environment,
        base=base,
        branch=branch,
        approvals=tuple(approvals),
        now=now,
    )
    with trusted_policies(work, base):
        result = run_gate(request, output=work / ".mlops" / "gate" / "decision.json")
    return outcome_of(result.decision, record=result.record, target_url=target_url)


def replay_noted(root: str | Path, sha: str) -> Any:
    """Replay the gate record noted on ``sha`` with the policies of the base it was judged on.

    The record is the ``refs/notes/mlops-evidence`` note of ``sha`` in the
    repository (fetched with ``mlops forge track``), else in its local forge.

    Raises:
        ForgeError: no record is noted on ``sha``.
        PolicyError: the note is not a gate record, or a policy cannot be evaluated.
    """
    from mlops_gitops.forge import ForgeError
    from mlops_gitops.forge.records import EVIDENCE_REF, read_note_text
    from mlops_gitops.policies.gate import replay_record

    work = Path(root)
    commit = scm.git("rev-parse", "--verify", f"{sha}^{{commit}}", cwd=work).strip()
    text = read_note_text(work, EVIDENCE_REF, commit)
    if text is None:
        raise ForgeError(
            f"{commit[:12]}: no gate record is noted on it ({EVIDENCE_REF}); "
            "fetch the notes with 'mlops forge track && git fetch'"
        )
    origin = f"{EVIDENCE_REF}:{commit[:12]}"
    base = _recorded_base(text)
    if not base or not scm.git_ok("cat-file", "-e", f"{base}^{{commit}}", cwd=work):
        return replay_record(work, text, origin)
    with trusted_policies(work, base):
        return replay_record(work, text, origin)


def _recorded_base(text: str) -> str | None:
    try:
        base = json.loads(text)["bundle"]["target"]["base"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None  # replay_record names what is wrong with the record
    return str(base) if base else None


@contextmanager
def trusted_policies(root: Path, base: str) -> Iterator[None]:
    """Put the base revision's ``policies/`` in the work tree while the gate runs."""
    folder = root / POLICIES_DIR
    saved = root / ".mlops" / "policies-of-change"
    if not scm.git_ok("cat-file", "-e", f"{base}:{POLICIES_DIR}", cwd=root):
        log.warning("%s has no %s/; the change's own policies apply", base, POLICIES_DIR)
        yield
        return
    shutil.rmtree(saved, ignore_errors=True)
    if folder.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(saved)
    try:
        _extract(root, base, POLICIES_DIR)
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if saved.exists():
            saved.rename(folder)


def _extract(root: Path, rev: str, folder: str) -> None:
    listing = scm.git("ls-tree", "-r", "-z", "--full-tree", rev, "--", folder, cwd=root)
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _, kind, sha = meta.split()
        if kind != "blob":
            continue
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(scm.git_bytes("cat-file", "blob", sha, cwd=root))


def outcome_of(
    decision: Any, *, record: Path | None = None, target_url: str | None = None
) -> GateOutcome:
    """Turn a ``PolicyDecision`` into the status, verdict and rows forges and reports show."""
    rows = [
        PolicyRow(
            rule=r.id,
            level=r.severity or "-",
            outcome="fail" if r.outcome in ("block", "error") else r.outcome,
            message=(r.message + (f" (waiver {r.waiver})" if r.waiver else "")).strip(),
        )
        for r in decision.results
    ]
    summary = summarise(decision)
    details = "\n".join(
        ["| rule | result | message |", "|---|---|---|"]
        + [f"| `{r.rule}` | {r.outcome} | {r.message.replace('|', '/')} |" for r in rows]
    )
    kept = record is not None and record.is_file()
    evidence = record.read_text(encoding="utf-8") if record is not None and kept else None
    status = GateStatus(
        decision=decision.verdict,
        summary=summary,
        details=details,
        target_url=target_url,
        data=decision.to_json(),
        evidence=evidence,
    )
    verdict = Verdict(
        decision=decision.verdict, summary=summary, bundle=decision.bundle_digest[:12]
    )
    return GateOutcome(
        decision=decision, status=status, verdict=verdict, policies=rows, record=record
    )


def summarise(decision: Any) -> str:
    """Return a one-line summary: the verdict's reason first, then the counts."""
    counts = decision.counts()
    tally = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    blocked = [r.id for r in decision.results if r.outcome in ("block", "error")]
    warned = [r.id for r in decision.results if r.outcome == "warn"]
    if blocked:
        return f"blocked by {', '.join(blocked)} ({tally})"
    if warned:
        return f"passes with warnings from {', '.join(warned)} ({tally})"
    return f"all rules pass ({tally})" if tally else "no rule applies"


def error_outcome(message: str, *, target_url: str | None = None) -> GateOutcome:
    """Return the outcome of a gate that could not decide (an invalid policy, missing evidence)."""
    status = GateStatus(
        decision="error",
        summary=f"the gate could not decide: {message}"[:300],
        details=message,
        target_url=target_url,
    )
    verdict = Verdict(decision="error", summary=status.summary)
    return GateOutcome(decision=None, status=status, verdict=verdict, policies=[], record=None)


def raise_for_status(status: GateStatus) -> None:
    """Raise when the gate's status is not a success (after the caller has shown it).

    Raises:
        GateBlocked: the gate blocks the change (exit 3).
        MlopsError: the gate could not decide.
    """
    if status.decision == "block":
        raise GateBlocked(f"the gate blocks this change: {status.summary}")
    if status.decision == "error":
        raise MlopsError(f"the gate could not decide: {status.summary}")
