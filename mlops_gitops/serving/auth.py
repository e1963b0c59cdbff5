"""Bearer-token authentication with two roles: ``predict`` and ``admin``.

Tokens come from the environment (``MLOPS_PREDICT_TOKENS``,
``MLOPS_ADMIN_TOKENS``: comma-separated) or a secret file with one
``role:token`` per line (``MLOPS_TOKEN_FILE`` or ``--token-file``; blank
lines and ``#`` comments ignored). An admin token may also predict. Tokens
are compared in constant time against every known token and are never
logged. With no token configured, the server runs without authentication
and says so in its log and readiness details.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlops_gitops.errors import ConfigError

Role = Literal["predict", "admin"]
ROLES: tuple[Role, ...] = ("predict", "admin")
ENV_VARS: dict[Role, str] = {"predict": "MLOPS_PREDICT_TOKENS", "admin": "MLOPS_ADMIN_TOKENS"}
TOKEN_FILE_VAR = "MLOPS_TOKEN_FILE"


@dataclass(frozen=True)
class TokenStore:
    """The known tokens, as bytes, with the role each grants."""

    tokens: tuple[tuple[bytes, Role], ...] = ()

    @property
    def enabled(self) -> bool:
        """Return True when at least one token is configured."""
        return bool(self.tokens)

    def role_of(self, authorization: bytes | None) -> Role | None:
        """Return the role a raw ``Authorization`` header grants, or None."""
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return None
        presented = authorization[7:].strip()
        granted: Role | None = None
        for token, role in self.tokens:  # no early exit: time does not depend on which matched
            if hmac.compare_digest(presented, token) and granted != "admin":
                granted = role
        return granted

    def allows(self, authorization: bytes | None, needed: Role) -> bool | None:
        """Return True when allowed, False when the token lacks the role, None when unknown."""
        if not self.enabled:
            return True
        role = self.role_of(authorization)
        if role is None:
            return None
        return role == "admin" or needed == "predict"


def read_tokens(
    environ: Mapping[str, str] | None = None, *, token_file: Path | None = None
) -> TokenStore:
    """Collect tokens from the environment and the secret file.

    Raises:
        ConfigError: the secret file is missing or has a malformed line.
    """
    env = os.environ if environ is None else environ
    pairs: list[tuple[bytes, Role]] = []
    for role in ROLES:
        for token in env.get(ENV_VARS[role], "").split(","):
            if token.strip():
                pairs.append((token.strip().encode(), role))
    file_name = token_file or (Path(env[TOKEN_FILE_VAR]) if env.get(TOKEN_FILE_VAR) else None)
    if file_name is not None:
        pairs.extend(_read_token_file(file_name))
    return TokenStore(tuple(pairs))


def _read_token_file(path: Path) -> list[tuple[bytes, Role]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file; check --token-file") from exc
    pairs: list[tuple[bytes, Role]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        role, sep, token = line.partition(":")
        if not sep or role.strip() not in ROLES or not token.strip():
            # the line may hold a secret: name the line, never echo it
            raise ConfigError(f"{path}:{number}: expected 'predict:TOKEN' or 'admin:TOKEN'")
        pairs.append((token.strip().encode(), role.strip()))  # type: ignore[arg-type]  # checked above
    return pairs
