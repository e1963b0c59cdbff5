"""Protect PII columns before the dataset is first written.

The ingest stage applies :func:`protect_pii` in memory, between reading the
source and writing ``data/raw/dataset.parquet``, so no DVC output, cache or
remote ever holds a ``schema.pii`` value in clear. ``schema.pii_action`` is
the one setting that decides what happens to every PII column:

- ``drop``: the columns are removed (the default, and the safest);
- ``hash``: each value becomes ``sha256(salt + value)`` in hex, so records
  can still be joined by someone who holds the salt, and by nobody else.
  The salt comes only from the environment variable ``MLOPS_PII_SALT``
  (never from a file in Git or a DVC output); without it, hashing is
  refused (an unsalted hash of a phone number is reversible by trying every
  number). DVC does not track environment variables: after changing the
  salt, rerun with ``dvc repro --force ingest``;
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
_PARQUET_MAGIC = b"PAR1"


def resolve_salt(environ: Mapping[str, str] | None = None) -> str:
    """Return the hashing salt, from the environment variable ``MLOPS_PII_SALT``.

    Raises:
        ConfigError: the variable is unset or empty.
    """
    env = os.environ if environ is None else environ
    salt = env.get(PII_SALT_ENV)
    if not salt:
        raise ConfigError(
            f"schema.pii_action: hash needs a salt; set the environment variable {PII_SALT_ENV} "
            "(a CI secret; never a file in Git or DVC)"
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
        raise ConfigError("schema.pii_action: hash needs a non-empty salt")
    if action not in ("hash", "mask"):
        raise ConfigError(f"schema.pii_action: expected drop, hash or mask, got {action!r}")
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

    ``values`` maps a PII column to its raw values; see :class:`PiiSearch`.
    """
    search = PiiSearch(values)
    return [leak for file in _files(paths) for leak in search.in_bytes(file.read_bytes(), file)]


class PiiSearch:
    """Raw PII values indexed by their first bytes, so one pass over an object finds them all.

    An object (a file's content, a Git blob) is searched as bytes (UTF-8); a
    Parquet object, found by its magic number whatever its name, is also
    decoded and its cells searched, because compression can hide a value
    from a byte search.
    """

    def __init__(self, values: Mapping[str, set[str]]) -> None:
        encoded = [(kind, v.encode()) for kind, found in values.items() for v in found if v]
        self._width = min((len(v) for _, v in encoded), default=0)
        self._index: dict[bytes, list[tuple[str, bytes]]] = {}
        for kind, value in encoded:
            self._index.setdefault(value[: self._width], []).append((kind, value))

    def in_bytes(self, data: bytes, origin: str | os.PathLike[str]) -> list[PiiLeak]:
        """Return the leaks in ``data``, named by ``origin`` (a path, an object id)."""
        where = Path(origin)
        found = [PiiLeak(where, None, kind) for kind in self._kinds_in(data)]
        if data[:4] == _PARQUET_MAGIC and data[-4:] == _PARQUET_MAGIC:
            found.extend(self._in_cells(data, where))
        return found

    def _kinds_in(self, data: bytes) -> list[str]:
        kinds: set[str] = set()
        width, index = self._width, self._index
        for start in range(len(data) - width + 1) if width else ():
            for kind, value in index.get(data[start : start + width], ()):
                if kind not in kinds and data.startswith(value, start):
                    kinds.add(kind)
        return sorted(kinds)

    def _in_cells(self, data: bytes, where: Path) -> list[PiiLeak]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(pa.BufferReader(data))
        leaks: list[PiiLeak] = []
        for name in table.column_names:
            cells = {str(v) for v in table.column(name).to_pylist() if v is not None}
            text = "\n".join(sorted(cells)).encode()
            leaks.extend(PiiLeak(where, name, kind) for kind in self._kinds_in(text))
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
