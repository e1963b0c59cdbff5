"""The durable store of prediction logs and feedback, named by an fsspec URL.

The server writes to it and the monitor reads from it, so the two need not
share a disk: a local or shared path, ``s3://bucket/prefix``, ``gs://…`` or
``az://…`` (the manifest's ``serving.prediction_log.store``). Storage options
(endpoint URL, region) come from the manifest; credentials come only from the
process environment (``CREDENTIAL_ENV``), never from a file in Git. Every
file is written whole: a temporary file renamed into place on a local path,
one new object under a unique key on an object store.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mlops_gitops.errors import MlopsError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from mlops_gitops.manifests import Manifest

DEFAULT_LOG_PATH = ".mlops/predictions/{env}"

# The environment variables each scheme reads its credentials from: the rendered
# Kubernetes Deployment fills them from a Secret, CI from its secret store.
CREDENTIAL_ENV: dict[str, tuple[str, ...]] = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gs": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "az": ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY"),
}
SCHEMES = ("file", *CREDENTIAL_ENV)
# The fsspec package behind each scheme, for the missing-package message.
_PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs"}


class StoreError(MlopsError):
    """The prediction-log store cannot be opened, reached, read or written."""


def scheme_of(url: str) -> str:
    """Return the URL's scheme (``file`` for a plain path)."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep else "file"


@dataclass(frozen=True)
class Location:
    """A folder in the store: its filesystem and its path inside it."""

    fs: AbstractFileSystem = field(repr=False)
    path: str
    url: str

    def child(self, name: str) -> Location:
        """Return the location of sub-folder ``name``."""
        path, url = self.path.rstrip("/"), self.url.rstrip("/")
        return Location(self.fs, f"{path}/{name}", f"{url}/{name}")

    def names(self, prefix: str) -> list[PurePosixPath]:
        """Return the files directly in this folder whose name starts with ``prefix``."""
        try:
            self.fs.invalidate_cache(self.path)  # another process writes: never list from a cache
            found = self.fs.ls(self.path, detail=False)
        except FileNotFoundError:
            return []
        except Exception as exc:  # every backend raises its own errors (botocore, aiohttp, OSError)
            raise StoreError(f"{self.url}: cannot list the store ({_cause(exc)})") from exc
        paths = [PurePosixPath(str(p)) for p in found]
        return sorted(p for p in paths if p.name.startswith(prefix))

    def read_bytes(self, name: str) -> bytes:
        """Return the bytes of file ``name`` in this folder."""
        try:
            data: bytes = self.fs.cat_file(f"{self.path.rstrip('/')}/{name}")
        except Exception as exc:  # every backend raises its own errors
            raise StoreError(f"{self.url}/{name}: cannot read ({_cause(exc)})") from exc
        return data

    def write(self, name: str, data: bytes) -> str:
        """Write file ``name`` whole (never visible half-written); return its URL."""
        target = f"{self.path.rstrip('/')}/{name}"
        try:
            if scheme_of(self.url) == "file":
                _write_local(Path(target), data)
            else:  # one PUT of a unique key: the object appears whole or not at all
                self.fs.pipe_file(target, data)
        except Exception as exc:  # every backend raises its own errors
            raise StoreError(f"{self.url}/{name}: cannot write ({_cause(exc)})") from exc
        return f"{self.url.rstrip('/')}/{name}"

    def check(self) -> None:
        """Raise StoreError unless the store answers a listing of this folder."""
        self.names("")
        if scheme_of(self.url) == "file":
            return
        bucket = self.path.split("/", 1)[0]
        try:
            found = self.fs.exists(bucket)
        except Exception as exc:  # every backend raises its own errors
            raise StoreError(f"{self.url}: cannot reach the store ({_cause(exc)})") from exc
        if not found:
            raise StoreError(f"{self.url}: bucket '{bucket}' does not exist; create it first")


def _write_local(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _cause(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def open_location(
    url: str | os.PathLike[str],
    options: Mapping[str, object] | None = None,
    *,
    root: Path | None = None,
) -> Location:
    """Open the store folder at ``url`` (a relative path is taken from ``root``).

    Raises:
        StoreError: the scheme is not supported or its package is not installed.
    """
    text = os.fspath(url)
    scheme = scheme_of(text)
    if scheme not in SCHEMES:
        raise StoreError(
            f"{text}: unsupported store scheme '{scheme}'; use a path or one of "
            + ", ".join(f"{s}://" for s in CREDENTIAL_ENV)
        )
    if scheme == "file":
        path = Path(text.removeprefix("file://"))
        path = path if path.is_absolute() or root is None else root / path
        text = str(path)
    import fsspec

    try:
        fs, path_in_fs = fsspec.core.url_to_fs(text, **dict(options or {}))
    except ImportError as exc:
        package = _PACKAGES.get(scheme, scheme)
        raise StoreError(f"{text}: the '{package}' package is needed; pip install {package}") from (
            exc
        )
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{text}: bad storage options ({_cause(exc)})") from exc
    return Location(fs, str(path_in_fs), text)


def log_location(manifest: Manifest, env: str, *, root: Path) -> Location:
    """Open the folder of ``env``'s prediction logs: the store, else the local path."""
    configured = manifest.serving.prediction_log
    if configured is not None and configured.store is not None:
        return open_location(configured.store.url, configured.store.options, root=root)
    path = configured.path if configured and configured.path else DEFAULT_LOG_PATH.format(env=env)
    return open_location(path, root=root)
