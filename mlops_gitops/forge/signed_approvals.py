"""Approvals on the local forge: SSH-signed tags ``approve/<env>/<sha>/<user>``.

An approver signs a tag on the commit they approve with their SSH key; the
tag counts only when its signature verifies against the ``allowed_signers``
file kept in the repository (read from a trusted revision, never from the
change under review), and the principal of that file is the approver's
identity. Tag names that do not match their target are ignored.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.errors import ScmError
from mlops_gitops.forge.base import Approval, ForgeError

log = logging.getLogger(__name__)

APPROVAL_PREFIX = "refs/tags/approve/"
SOURCE = "ssh-signed-tag"
_NAME = re.compile(
    r"^refs/tags/approve/(?P<env>[a-z0-9][a-z0-9_-]*)/(?P<sha>[0-9a-f]{40})/(?P<user>[^/]+)$"
)


@dataclass(frozen=True, kw_only=True)
class ApprovalTag:
    """A tag that claims to approve ``sha`` for ``env``."""

    refname: str
    env: str
    sha: str
    user: str
    tag_object: str


def approval_tag_name(env: str, sha: str, user: str) -> str:
    """Return the tag name (without ``refs/tags/``) of an approval."""
    return f"approve/{env}/{sha}/{user}"


def parse_approval_ref(refname: str, tag_object: str) -> ApprovalTag | None:
    """Return the approval a ref claims, or None when the name is not an approval."""
    match = _NAME.match(refname)
    if match is None:
        return None
    return ApprovalTag(
        refname=refname,
        env=match["env"],
        sha=match["sha"],
        user=match["user"],
        tag_object=tag_object,
    )


def list_approval_tags(
    git_dir: str | os.PathLike[str], *, pending: Mapping[str, str] | None = None
) -> list[ApprovalTag]:
    """Return the approval tags of the repository plus ``pending`` (refname -> object, a push).

    Pending entries override existing ones; a pending deletion (zero object) removes one.
    """
    fmt = "%(refname) %(objectname)"
    refs = dict(
        line.split(" ", 1)
        for line in scm.git(
            "for-each-ref", f"--format={fmt}", APPROVAL_PREFIX, cwd=git_dir
        ).splitlines()
    )
    refs.update(pending or {})
    tags = [
        parse_approval_ref(name, oid) for name, oid in sorted(refs.items()) if set(oid) != {"0"}
    ]
    return [t for t in tags if t is not None]


def verify_approvals(
    git_dir: str | os.PathLike[str], tags: list[ApprovalTag], *, signers: str
) -> list[Approval]:
    """Return the approvals whose tag is signed by a principal of ``signers``.

    Args:
        git_dir: the repository that holds the tag objects.
        tags: candidate tags (see :func:`list_approval_tags`).
        signers: the text of an ``allowed_signers`` file.
    """
    approvals: list[Approval] = []
    with tempfile.TemporaryDirectory(prefix="mlops-signers-") as tmp:
        signers_file = Path(tmp) / "allowed_signers"
        signers_file.write_text(signers)
        for tag in tags:
            principal = _verified_principal(git_dir, tag, signers_file)
            if principal is not None:
                approvals.append(Approval(principal, tag.sha, SOURCE, env=tag.env))
    return approvals


def _verified_principal(
    git_dir: str | os.PathLike[str], tag: ApprovalTag, signers_file: Path
) -> str | None:
    principal, problem = check_approval(git_dir, tag, signers_file)
    if problem is not None:
        log.info("%s: %s; ignored", tag.refname, problem)
    return principal


def check_approval(
    git_dir: str | os.PathLike[str], tag: ApprovalTag, signers_file: Path
) -> tuple[str | None, str | None]:
    """Return ``(principal, None)`` when ``tag`` is a valid approval, else ``(None, why)``.

    The ref's claims (environment, commit, approver) must be the signed
    content of the tag object: its ``tag`` header names the ref, its target
    is the commit, its message is the one :func:`sign_approval` writes, its
    signature verifies against ``signers_file``, and the ref's user is the
    signer. A tag object re-pointed from another ref (a dev approval under a
    prod name) fails the first test.
    """
    if scm.git("cat-file", "-t", tag.tag_object, cwd=git_dir, check=False).strip() != "tag":
        return None, "not an annotated tag"
    claims = _claims_problem(scm.git("cat-file", "tag", tag.tag_object, cwd=git_dir), tag)
    if claims is not None:
        return None, claims
    principal = scm.tag_signer(git_dir, tag.tag_object, signers_file)
    if principal is None:
        return None, "its signature does not verify against main's allowed signers"
    if tag.user not in (principal, principal.partition("@")[0]):
        return None, f"it is signed by {principal}, not by {tag.user}"
    return principal, None


def _claims_problem(body: str, tag: ApprovalTag) -> str | None:
    header, _, message = body.partition("\n\n")
    fields = dict(line.split(" ", 1) for line in header.splitlines() if " " in line)
    name = tag.refname.removeprefix("refs/tags/")
    if fields.get("tag") != name:
        return f"its signed name is {fields.get('tag')!r}, not {name!r} (a re-pointed tag)"
    if fields.get("object") != tag.sha or fields.get("type") != "commit":
        return f"it does not point at the commit {tag.sha[:12]} its name claims"
    if message.splitlines()[:1] != [approval_message(tag.sha, tag.env)]:
        return f"its signed message does not approve {tag.sha[:12]} for {tag.env}"
    return None


def approval_message(sha: str, env: str) -> str:
    """Return the signed message of the approval of ``sha`` for ``env``."""
    return f"approve {sha} for {env}"


def sign_approval(
    repo: str | os.PathLike[str], env: str, rev: str, *, key: str | os.PathLike[str], user: str
) -> str:
    """Create the SSH-signed approval tag of ``rev`` for ``env`` in ``repo``; return its name.

    Raises:
        ForgeError: the key cannot sign or the tag exists already.
    """
    sha = scm.rev_parse(rev, repo)
    name = approval_tag_name(env, sha, user)
    try:
        scm.create_tag(repo, name, sha, approval_message(sha, env) + "\n", key=key)
    except ScmError as exc:
        raise ForgeError(str(exc).replace("the tag", "the approval tag", 1)) from exc
    return name


def approve(
    repo: str | os.PathLike[str],
    env: str,
    rev: str = "HEAD",
    *,
    key: str | os.PathLike[str],
    user: str,
    remote: str | None = "origin",
) -> str:
    """Sign the approval of ``rev`` for ``env`` and push the tag to ``remote``; return its name."""
    name = sign_approval(repo, env, rev, key=key, user=user)
    if remote:
        scm.git("push", "-q", remote, f"refs/tags/{name}", cwd=repo)
    return name
