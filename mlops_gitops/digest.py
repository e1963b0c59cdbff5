"""Content digests: the MD5 that DVC records for a file, the SHA-256 that signatures cover.

DVC names a file output in ``dvc.lock`` and its object in the cache or a
remote by the MD5 of the file's bytes. Every MD5 the toolkit computes, of a
local file or of an object read from a remote, is computed here, in blocks,
so a large artifact is never read into memory whole. A signed registration
records the SHA-256 of the artifact too (MD5 is no defence against a crafted
collision).
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO

BLOCK_SIZE = 1 << 20


def stream_md5(handle: BinaryIO) -> str:
    """Return the MD5 hex digest of what ``handle`` reads until its end."""
    return _stream(handle, hashlib.md5(usedforsecurity=False))


def _stream(handle: BinaryIO, digest: hashlib._Hash) -> str:
    for block in iter(lambda: handle.read(BLOCK_SIZE), b""):
        digest.update(block)
    return digest.hexdigest()


def file_md5(path: str | os.PathLike[str]) -> str:
    """Return the MD5 hex digest of a file's bytes, as DVC records it."""
    with open(path, "rb") as handle:
        return stream_md5(handle)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    with open(path, "rb") as handle:
        return _stream(handle, hashlib.sha256())
