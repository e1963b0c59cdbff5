"""SSH signing keys as the approval checks read them."""

from __future__ import annotations

from pathlib import Path


def signers_text(keys: dict[str, Path], *names: str) -> str:
    """Return an allowed_signers file for ``names`` (principal NAME@acme)."""
    lines = ["# principals allowed to sign approvals"]
    for name in names:
        public = keys[name].with_suffix(".pub").read_text().split()
        lines.append(f'{name}@acme namespaces="git" {public[0]} {public[1]}')
    return "\n".join(lines) + "\n"
