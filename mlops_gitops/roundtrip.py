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

from mlops_gitops.errors import ConfigError

WIDTH = 4096


def yaml_roundtrip() -> Any:
    """Return a ruamel ``YAML`` configured for byte-preserving round trips."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = WIDTH
    return yaml


def parse_roundtrip(text: str, origin: str, *, error: type[ConfigError] = ConfigError) -> Any:
    """Parse YAML text into ruamel's commented containers (they keep line numbers).

    Raises:
        ConfigError (or ``error``): the text is not valid YAML; the message names ``origin:LINE``.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return yaml_roundtrip().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise error(f"{origin}{line}: not valid YAML ({exc.problem or exc.context})") from exc
    except YAMLError as exc:
        raise error(f"{origin}: not valid YAML ({exc})") from exc


def load_roundtrip(path: Path, *, error: type[ConfigError] = ConfigError) -> Any:
    """Read ``path`` with :func:`parse_roundtrip`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    return parse_roundtrip(text, str(path), error=error)


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
