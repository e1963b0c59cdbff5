"""Round-trip YAML: read and edit user files so only the edited values change.

Comments, key order, quoting and indentation survive an edit byte for byte
(ruamel.yaml with ``preserve_quotes``, the house indentation and a wide
line width). Writes are atomic: a temporary file replaced with
``os.replace``, so a failed edit leaves the file untouched.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_gitops.documents import parse_yaml_roundtrip as parse_roundtrip
from mlops_gitops.documents import read_text, yaml_roundtrip
from mlops_gitops.errors import ConfigError

# The reader lives with the other document readers (mlops_gitops.documents); the
# editors import it from here with the writer.
__all__ = [
    "dump_roundtrip",
    "load_roundtrip",
    "modify_yaml",
    "parse_roundtrip",
    "write_atomic",
    "yaml_roundtrip",
]


def load_roundtrip(path: Path, *, error: type[ConfigError] = ConfigError) -> Any:
    """Read ``path`` with :func:`parse_roundtrip`."""
    return parse_roundtrip(read_text(path, error=error), str(path), error=error)


def dump_roundtrip(data: Any) -> str:
    """Serialise round-trip data back to text."""
    buffer = io.StringIO()
    yaml_roundtrip().dump(data, buffer)
    return buffer.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def modify_yaml(path: Path, *, error: type[ConfigError] = ConfigError) -> Iterator[Any]:
    """Yield the round-trip document of ``path``; write it back atomically on success."""
    data = load_roundtrip(path, error=error)
    yield data
    write_atomic(path, dump_roundtrip(data))
