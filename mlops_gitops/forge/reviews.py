"""The reviews that counted when a GitHub pull request merged.

GitHub keeps reviews in its database, not in Git; this reads them through
the API so that :mod:`mlops_gitops.ci.merged` can note them on the merge.
A review counts as branch protection counts it: each reviewer's latest
deciding review (approved, changes requested or dismissed) is an approval
of the merged head, and the reviewer is none of the identities GitHub
attaches to the change (opener, pushers, commit accounts).
"""

from __future__ import annotations

from typing import Any

from mlops_gitops.forge.base import ChangeRef, Forge, ForgeError
from mlops_gitops.forge.github import SOURCE, GitHubForge, _api

DECIDING = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")


def counted_reviews(forge: Forge, pull: int, head: str) -> list[dict[str, Any]]:
    """Return the approving reviews of ``head`` that counted on pull request ``pull``.

    Raises:
        ForgeError: the forge is not GitHub, or the API refused a call.
    """
    if not isinstance(forge, GitHubForge):
        raise ForgeError(f"reading pull-request reviews needs the github forge, not '{forge.name}'")
    repo = forge.repository()
    with _api(f"reading pull request #{pull}"):
        found = repo.pull_request(pull)
    if found is None:
        raise ForgeError(f"github: pull request #{pull} not found")
    authors = set(forge.list_authors(ChangeRef(head, str(found.head.ref), pull=pull)))
    latest: dict[str, Any] = {}
    with _api(f"reading the reviews of #{pull}"):
        for review in found.reviews():
            if review.state in DECIDING:
                latest[str(review.user.login)] = review
    return [
        {
            "reviewer": login,
            "state": str(review.state),
            "commit": str(review.commit_id),
            "time": _when(review),
            "source": SOURCE,
        }
        for login, review in sorted(latest.items())
        if review.state == "APPROVED" and review.commit_id == head and login not in authors
    ]


def _when(review: Any) -> str:
    moment = getattr(review, "submitted_at", None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""
