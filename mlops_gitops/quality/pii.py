"""Protect PII columns before anything downstream sees them.

Three actions (``prepare.pii_action``):

- ``drop``: the columns are removed (the default, and the safest);
- ``hash``: each value becomes ``sha256(salt + value)`` in hex, so records
  can still be joined by someone who holds the salt, and by nobody else.
  The salt comes from the environment variable ``MLOPS_PII_SALT`` or, if
  that is unset, from ``prepare.pii_salt``; without either, hashing is
  refused (an unsalted hash of a phone number is reversible by trying every
  number). DVC does not track environment variables: after changing the
  salt, rerun with ``dvc repro --force prepare``;
- ``mask``: every letter and digit becomes ``*``, punctuation and spaces
  stay (the shape of the value remains, its content does not).

Missing values stay missing. Hashed and masked columns remain strings and
are never model features. :func:`find_pii_leaks` searches files for the raw
PII values, to prove that none reached the pipeline's outputs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from mlops_gitops.errors import ConfigError, DataError

PiiAction = Literal["drop", "hash", "mask"]
PII_SALT_ENV = "MLOPS_PII_SALT"
_MASKED = re.compile(r"[^\W_]", re.UNICODE)


def resolve_salt(configured: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Return the hashing salt: ``MLOPS_PII_SALT`` if set, else ``configured``.

    Raises:
        ConfigError: neither is set (or both are empty).
    """
    env = os.environ if environ is None else environ
    salt = env.get(PII_SALT_ENV) or configured
    if not salt:
        raise ConfigError(
            f"prepare.pii_action: hash needs a salt; set the environment variable {PII_SALT_ENV} "
            "(preferred, kept out of git) or prepare.pii_salt in params.yaml"
        )
    return salt


def protect_pii(
    frame: pd.DataFrame,
    columns: Sequence[str],
    action: PiiAction,
    *,
    salt: str | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with the PII ``columns`` dropped, hashed or masked.

    Raises:
        DataError: a declared PII column is not in the frame.
        ConfigError: ``action`` is ``hash`` and ``salt`` is empty.
    """
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(
            f"PII column(s) {', '.join(absent)} declared in schema.pii are not in the dataset"
        )
    if action == "drop":
        return frame.drop(columns=list(columns))
    if action == "hash" and not salt:
        raise ConfigError("prepare.pii_action: hash needs a non-empty salt")
    if action not in ("hash", "mask"):
        raise ConfigError(f"prepare.pii_action: expected drop, hash or mask, got {action!r}")
    convert = functools.partial(hash_value, salt=salt or "") if action == "hash" else mask_value
    protected = frame.copy()
    for name in columns:
        texts = [None if pd.isna(v) else convert(str(v)) for v in frame[name]]
        protected[name] = pd.Series(texts, index=frame.index, dtype="str")
    return protected


def hash_value(value: str, salt: str) -> str:
    """Return the salted SHA-256 of ``value`` in hex."""
    return hashlib.sha256(f"{salt}{value}".encode()).hexdigest()


def mask_value(value: str) -> str:
    """Return ``value`` with every letter and digit replaced by ``*``."""
    return _MASKED.sub("*", value)


@dataclass(frozen=True)
class PiiLeak:
    """A PII value found where it must not be: the file, and the column for tables."""

    path: Path
    column: str | None
    value_kind: str


def collect_pii_values(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, set[str]]:
    """Return the distinct non-missing values of each PII column of ``frame``."""
    return {
        name: {str(v) for v in frame[name].dropna().unique()}
        for name in columns
        if name in frame.columns
    }


def find_pii_leaks(
    values: Mapping[str, set[str]], paths: Sequence[str | os.PathLike[str]]
) -> list[PiiLeak]:
    """Search files (and folders, recursively) for any of the PII ``values``.

    Every file is searched byte for byte (UTF-8); Parquet files are also
    decoded and searched cell by cell, because compression can hide a value
    from a byte search. ``values`` maps a PII column to its raw values.
    """
    leaks: list[PiiLeak] = []
    for file in _files(paths):
        blob = file.read_bytes()
        for kind, found in values.items():
            if any(v.encode() in blob for v in found):
                leaks.append(PiiLeak(file, None, kind))
        if file.suffix == ".parquet":
            leaks.extend(_parquet_leaks(file, values))
    return leaks


def _files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            found.append(path)
    return found


def _parquet_leaks(path: Path, values: Mapping[str, set[str]]) -> list[PiiLeak]:
    frame = pd.read_parquet(path)
    leaks: list[PiiLeak] = []
    for name in frame.columns:
        cells = {str(v) for v in frame[name].dropna().unique()}
        for kind, found in values.items():
            if cells & found:
                leaks.append(PiiLeak(path, str(name), kind))
    return leaks
