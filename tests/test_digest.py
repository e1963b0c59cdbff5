"""The one MD5 of the toolkit: the digest DVC records for a file."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from mlops_gitops.digest import BLOCK_SIZE, file_md5, stream_md5


def test_file_md5_is_dvcs_digest_of_the_bytes_across_blocks(tmp_path: Path) -> None:
    data = b"0123456789abcdef" * (BLOCK_SIZE // 8 + 3)  # more than two blocks
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    assert file_md5(path) == hashlib.md5(data).hexdigest()
    assert file_md5(str(path)) == file_md5(path)


def test_stream_md5_reads_a_handle_to_its_end() -> None:
    assert stream_md5(io.BytesIO(b"")) == "d41d8cd98f00b204e9800998ecf8427e"
    assert stream_md5(io.BytesIO(b"abc")) == hashlib.md5(b"abc").hexdigest()
