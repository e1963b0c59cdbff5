"""Signed registrations: an SSH signature over the artifact's digests.

``mlops register --sign-key KEY`` signs the registration tag with an SSH key,
the keys of ``policies/allowed_signers`` that signed approvals use. The
signed tag object holds the tag's name, the commit, and the artifact's path,
md5 and SHA-256 (MD5 alone is no defence against a crafted collision).

A version's signature verifies when ``git verify-tag`` finds a good signature
by a principal of ``policies/allowed_signers`` (read from a commit, never from
the work tree), the signed name is the tag's own (a signed tag object moved
under another version's name fails) and the signed registration records a
SHA-256; the artifact's bytes must then have that SHA-256. A signature that
does not verify is refused everywhere; an unsigned version is refused where
``envs/environments.yaml`` sets ``signed_models: true``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops import scm
from mlops_gitops.digest import file_sha256
from mlops_gitops.registry.versions import RegistryError, parse_metadata, read_tags

SIGNERS_PATH = "policies/allowed_signers"


@dataclass(frozen=True, kw_only=True)
class SignatureCheck:
    """What the signature of one registration tag says."""

    tag: str
    signed: bool
    signer: str | None = None
    sha256: str | None = None
    problem: str | None = None

    @property
    def verified(self) -> bool:
        """Whether a key of the allowed signers signed it, with an artifact SHA-256."""
        return self.signer is not None and self.problem is None

    def describe(self) -> str:
        """Return what the check found, in one line."""
        if self.verified:
            return f"{self.tag} signed by {self.signer} (sha256 {self.sha256})"
        return f"{self.tag}: {self.problem or 'not signed'}"


@contextmanager
def trusted_signers(root: str | os.PathLike[str], rev: str = "HEAD") -> Iterator[Path]:
    """Yield a file holding ``policies/allowed_signers`` as committed at ``rev`` (maybe empty)."""
    text = scm.show_file(rev, SIGNERS_PATH, root) or ""
    with tempfile.TemporaryDirectory(prefix="mlops-signers-") as tmp:
        path = Path(tmp) / "allowed_signers"
        path.write_text(text, encoding="utf-8")
        yield path


def check_signature(
    root: str | os.PathLike[str], tag: str, tag_object: str, signers_file: Path
) -> SignatureCheck:
    """Check the signature of the registration tag ``tag`` (object ``tag_object``)."""
    body = scm.git("cat-file", "tag", tag_object, cwd=root)
    if scm.SSH_SIGNATURE not in body:
        return SignatureCheck(tag=tag, signed=False)
    header, _, message = body.partition("\n\n")
    fields = dict(line.split(" ", 1) for line in header.splitlines() if " " in line)
    if fields.get("tag") != tag:
        problem = f"its signed name is {fields.get('tag')!r}, not {tag!r} (a moved tag)"
        return SignatureCheck(tag=tag, signed=True, problem=problem)
    signer = scm.tag_signer(root, tag_object, signers_file)
    if signer is None:
        problem = f"its signature does not verify against {SIGNERS_PATH}"
        return SignatureCheck(tag=tag, signed=True, problem=problem)
    artifact = parse_metadata(message).get("artifact")
    sha256 = artifact.get("sha256") if isinstance(artifact, dict) else None
    if not isinstance(sha256, str) or len(sha256) != 64:
        problem = "its signed registration records no sha256 of the artifact"
        return SignatureCheck(tag=tag, signed=True, signer=signer, problem=problem)
    return SignatureCheck(tag=tag, signed=True, signer=signer, sha256=sha256)


def require_signature(check: SignatureCheck, *, env: str, required: bool) -> str | None:
    """Return the signed SHA-256 (None for an unsigned version where none is required).

    Raises:
        RegistryError: the signature does not verify, or ``env`` requires one and there is none.
    """
    if check.verified:
        return check.sha256
    if check.signed:
        raise RegistryError(f"{check.tag}: refused in {env}: {check.problem}")
    if required:
        raise RegistryError(
            f"{check.tag} is not signed, and envs/environments.yaml sets signed_models for "
            f"{env}; register it with 'mlops register --sign-key KEY' (a key of {SIGNERS_PATH})"
        )
    return None


def check_bytes(path: Path, sha256: str, *, what: str) -> None:
    """Refuse ``path`` unless its bytes have the signed ``sha256``.

    Raises:
        RegistryError: the SHA-256 of the file differs.
    """
    actual = file_sha256(path)
    if actual != sha256:
        raise RegistryError(
            f"{what}: {path} has sha256 {actual} but its signed registration records {sha256}; "
            "the artifact was changed after it was signed"
        )


def check_pinned(
    root: str | os.PathLike[str],
    env: str,
    pins: Iterable[tuple[str, str]],
    *,
    rev: str | None = None,
) -> dict[tuple[str, str], str | None]:
    """Return the signed SHA-256 of each pinned ``(model, version)`` of ``env``.

    None stands for an unsigned version of an environment that does not set
    ``signed_models``; a version without a registration tag is left out (the
    pin check refuses it). ``envs/environments.yaml`` is read at ``rev`` (the
    work tree when None), the allowed signers at ``rev`` or HEAD.

    Raises:
        RegistryError: a signature does not verify, or one is required and missing.
    """
    from mlops_gitops.manifests.load import list_environments

    spec = list_environments(root, rev=rev).environments.get(env)
    required = bool(spec is not None and spec.signed_models)
    wanted = sorted(set(pins))
    models = sorted({model for model, _ in wanted})
    tags = {
        (t.model, t.version): t
        for t in read_tags(root, models, with_metadata=False)
        if t.mark == "register"
    }
    signed: dict[tuple[str, str], str | None] = {}
    with trusted_signers(root, rev or "HEAD") as signers:
        for key in wanted:
            tag = tags.get(key)
            if tag is not None:
                check = check_signature(root, tag.name, tag.tag_object, signers)
                signed[key] = require_signature(check, env=env, required=required)
    return signed
