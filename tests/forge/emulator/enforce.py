"""What GitHub enforces on the emulator's git side: branch protection, tag rulesets, merges.

A push reaches :func:`ref_refusals` through the bare repository's pre-receive
hook (installed by the emulator, which asks ``POST /_emulator/receive``); the
``git/refs`` routes and the merge route call the same functions. The messages
are GitHub's own (GH006 for protected branches, GH013 for rulesets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .state import Identity, Pull, State

ZERO = "0" * 40
CODEOWNERS_PLACES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Refusal:
    """Why an update of one ref is refused: GitHub's heading and its reasons."""

    heading: str
    reasons: tuple[str, ...]

    def lines(self) -> list[str]:
        return [self.heading, *(f"- {r}" for r in self.reasons)]


def glob_regex(pattern: str) -> str:
    """Return the regex of a ruleset ``ref_name`` or CODEOWNERS glob (``*`` stays in a segment)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


def _ref_matches(patterns: list[str], ref: str) -> bool:
    return any(re.fullmatch(glob_regex(p), ref) for p in patterns)


def _bypasses(ruleset: dict[str, Any], who: Identity | None) -> bool:
    for actor in ruleset.get("bypass_actors") or []:
        kind, actor_id = actor.get("actor_type"), actor.get("actor_id")
        if who is not None and kind == "Integration" and actor_id == who.app_id:
            return True
        if who is not None and kind == "User" and actor_id == who.user_id:
            return True
    return False


def _ruleset_reasons(state: State, ref: str, old: str, new: str, who: Identity | None) -> list[str]:
    reasons: list[str] = []
    for ruleset in state.rulesets.values():
        target = "tag" if ref.startswith("refs/tags/") else "branch"
        ref_name = (ruleset.get("conditions") or {}).get("ref_name") or {}
        if (
            ruleset.get("enforcement") != "active"
            or ruleset.get("target", "branch") != target
            or not _ref_matches(ref_name.get("include") or [], ref)
            or _ref_matches(ref_name.get("exclude") or [], ref)
            or _bypasses(ruleset, who)
        ):
            continue
        kinds = {rule.get("type") for rule in ruleset.get("rules") or []}
        moved = ZERO not in (old, new)
        if old == ZERO and "creation" in kinds:
            reasons.append("Cannot create ref due to creations being restricted.")
        elif new == ZERO and "deletion" in kinds:
            reasons.append("Cannot delete this protected ref.")
        elif moved and "update" in kinds:
            reasons.append("Cannot update this protected ref.")
        elif moved and "non_fast_forward" in kinds and not state.is_ancestor(old, new):
            reasons.append("Cannot force-push to this protected ref.")
    return list(dict.fromkeys(reasons))


def required_contexts(protection: dict[str, Any]) -> list[str]:
    checks = protection.get("required_status_checks") or {}
    found = list(checks.get("contexts") or [])
    found += [c["context"] for c in checks.get("checks") or [] if c.get("context") not in found]
    return found


def missing_statuses(state: State, protection: dict[str, Any], sha: str) -> list[str]:
    """Return the required status contexts that are not ``success`` on ``sha``."""
    latest = {s.context: s.state for s in state.statuses if s.sha == sha}
    return [
        f'Required status check "{c}" is expected.'
        for c in required_contexts(protection)
        if latest.get(c) != "success"
    ]


def _branch_reasons(state: State, ref: str, old: str, new: str) -> list[str]:
    protection = state.protections.get(ref.removeprefix("refs/heads/"))
    if not ref.startswith("refs/heads/") or protection is None:
        return []
    if new == ZERO:
        return [] if protection.get("allow_deletions") else ["Cannot delete this protected branch."]
    reasons = []
    if old != ZERO and not state.is_ancestor(old, new) and not protection.get("allow_force_pushes"):
        reasons.append("Cannot force-push to this branch.")
    if protection.get("required_pull_request_reviews"):
        reasons.append("Changes must be made through a pull request.")
    return reasons + missing_statuses(state, protection, new)


def ref_refusals(
    state: State, updates: list[tuple[str, str, str]], who: Identity | None
) -> list[Refusal]:
    """Return why each refused update of ``(old, new, ref)`` is refused (empty: all accepted)."""
    refused = []
    for old, new, ref in updates:
        rules = _ruleset_reasons(state, ref, old, new, who)
        if rules:
            refused.append(
                Refusal(f"GH013: Repository rule violations found for {ref}.", tuple(rules))
            )
        branch = _branch_reasons(state, ref, old, new)
        if branch:
            refused.append(
                Refusal(f"GH006: Protected branch update failed for {ref}.", tuple(branch))
            )
    return refused


# --- merging a pull request --------------------------------------------------
def valid_approvers(state: State, pr: Pull, protection: dict[str, Any], head: str) -> set[str]:
    """Return the logins whose latest review approves ``head`` as protection counts it."""
    reviews = protection.get("required_pull_request_reviews") or {}
    latest: dict[str, Any] = {}
    for review in state.reviews:
        if review.number == pr.number and review.state not in ("COMMENTED", "PENDING"):
            latest[review.author.login] = review
    pusher = state.pushers.get(f"refs/heads/{pr.head}")
    return {
        login
        for login, review in latest.items()
        if review.state == "APPROVED"
        and login != pr.author.login
        and (not reviews.get("dismiss_stale_reviews") or review.commit_id == head)
        and not (reviews.get("require_last_push_approval") and pusher and pusher.login == login)
    }


def code_owners(state: State, rev: str, path: str) -> list[str]:
    """Return the owners of ``path`` by the CODEOWNERS file at ``rev`` (the last match wins)."""
    text = next((t for p in CODEOWNERS_PLACES if (t := state.show(rev, p)) is not None), "")
    owners: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields and re.fullmatch(_owner_regex(fields[0]), path):
            owners = [f.removeprefix("@") for f in fields[1:]]
    return owners


def _owner_regex(pattern: str) -> str:
    anchored = pattern.startswith("/") or "/" in pattern.strip("/")
    body = pattern.strip("/")
    tail = "/.*" if pattern.endswith("/") else "(?:/.*)?"
    return ("" if anchored else "(?:.*/)?") + glob_regex(body) + tail


def _owned_by(state: State, owner: str, login: str) -> bool:
    if "/" in owner:
        return login in state.teams.get(owner.split("/", 1)[1], [])
    return owner == login


def merge_refusals(state: State, pr: Pull) -> list[str]:
    """Return why merging ``pr`` into its protected base is refused (empty: it may merge)."""
    protection = state.protections.get(pr.base)
    head, base = state.resolve(pr.head), state.resolve(pr.base)
    if protection is None or head is None or base is None:
        return []
    reasons = missing_statuses(state, protection, head)
    checks = protection.get("required_status_checks") or {}
    if checks.get("strict") and not state.is_ancestor(base, head):
        reasons.append("Head branch is out of date with the base branch.")
    reviews = protection.get("required_pull_request_reviews")
    if not reviews:
        return reasons
    approvers = valid_approvers(state, pr, protection, head)
    wanted = int(reviews.get("required_approving_review_count") or 0)
    if len(approvers) < wanted:
        reasons.append(
            f"At least {wanted} approving review is required by reviewers with write access."
        )
    if reviews.get("require_code_owner_reviews"):
        for owners in _owner_sets(state, base, head):
            if not any(_owned_by(state, o, a) for o in owners for a in approvers):
                reasons.append(f"Waiting on code owner review from {', '.join(owners)}.")
    return list(dict.fromkeys(reasons))


def _owner_sets(state: State, base: str, head: str) -> list[list[str]]:
    found: list[list[str]] = []
    for path in state.changed_files(base, head):
        owners = code_owners(state, base, path)
        if owners and owners not in found:
            found.append(owners)
    return found
