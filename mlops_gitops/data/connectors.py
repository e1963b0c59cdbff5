"""Data connectors: read the raw dataset named by the ``data`` params section.

A connector is anything with a ``read(source, settings)`` method returning a
DataFrame (:class:`Connector`). Built in: ``sample`` (the generator),
``csv`` and ``parquet`` through fsspec, so ``data.source`` may be a local
path or any URL fsspec understands (``file://``, ``s3://``, ``gs://``,
``https://``, ...; remote schemes need their fsspec package). Plug-ins add
connectors through the entry-point group ``mlops_gitops.connectors``
(name = ``module:Class``; the class is instantiated without arguments).
``data.intake.ingest`` reads the source through them; :func:`write_parquet`
and :func:`read_parquet` are the pipeline's Parquet I/O.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

import pandas as pd

from mlops_gitops.data.settings import DataSettings
from mlops_gitops.data.synthetic import generate_kind
from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.params import parse_section
from mlops_gitops.plugins import PluginPoint, instance

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mlops_gitops.connectors"
SAMPLE_SOURCE = "sample"
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zip")
FORMAT_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".parq": "parquet",
    ".pq": "parquet",
}


@runtime_checkable
class Connector(Protocol):
    """Reads one kind of source into a DataFrame."""

    def read(self, source: str, settings: DataSettings) -> pd.DataFrame:
        """Return the dataset at ``source``; raise :class:`DataError` naming it on failure."""
        ...


class SampleConnector:
    """The built-in synthetic samples (``data.sample``; ``kind`` credit by default)."""

    def read(self, source: str, settings: DataSettings) -> pd.DataFrame:
        """Generate the sample ``data.sample.kind`` with its ``rows``, ``seed`` and ``drift``."""
        sample = settings.sample
        return generate_kind(sample.kind, sample.rows, sample.seed, sample.drift)


class CsvConnector:
    """A CSV file (optionally compressed) at a local path or fsspec URL."""

    def read(self, source: str, settings: DataSettings) -> pd.DataFrame:
        """Read the CSV; ``data.read_options`` go to :func:`pandas.read_csv`."""
        options = settings.read_options
        frame = _read_with(source, settings, "CSV", lambda f: pd.read_csv(f, **options))
        if settings.id_column in frame.columns:
            ids = frame[settings.id_column]
            frame[settings.id_column] = ids.where(ids.isna(), ids.astype(str))
        return frame


class ParquetConnector:
    """A Parquet file at a local path or fsspec URL."""

    def read(self, source: str, settings: DataSettings) -> pd.DataFrame:
        """Read the Parquet file; ``data.read_options`` go to :func:`pandas.read_parquet`."""
        return _read_with(
            source, settings, "Parquet", lambda f: pd.read_parquet(f, **settings.read_options)
        )


BUILTIN_CONNECTORS: dict[str, type[Connector]] = {
    "sample": SampleConnector,
    "csv": CsvConnector,
    "parquet": ParquetConnector,
}


CONNECTORS: PluginPoint[Connector] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="connector",
    protocol=Connector,
    builtins=BUILTIN_CONNECTORS,
    error=ConfigError,
    make=instance,
)


def list_connectors() -> dict[str, str]:
    """Return every connector name with where it comes from (built-in or the entry point)."""
    found = CONNECTORS.names()
    return {name: "built-in" if name in BUILTIN_CONNECTORS else found[name] for name in found}


def find_connector(name: str) -> Connector:
    """Return the connector registered as ``name`` (built-in first, then plug-ins).

    Raises:
        ConfigError: no connector has that name, or the plug-in cannot be loaded.
    """
    return CONNECTORS.load(name, where="data.format")


def connector_name(settings: DataSettings) -> str:
    """Return the connector that reads ``settings.source``: sample, the format, or by suffix.

    Raises:
        ConfigError: ``format`` is ``auto`` and the suffix does not say CSV or Parquet.
    """
    if settings.source == SAMPLE_SOURCE:
        return "sample"
    if settings.format != "auto":
        return settings.format
    path = PurePosixPath(settings.source.split("?", 1)[0])
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    kind = FORMAT_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise ConfigError(
            f"data.source: cannot tell the format of '{settings.source}' from its name; "
            "set data.format to csv or parquet"
        )
    return kind


def read_dataset(data: DataSettings | Mapping[str, object]) -> pd.DataFrame:
    """Read the dataset that the ``data`` params section names.

    Raises:
        ConfigError: the section is invalid or names an unknown connector.
        DataError: the source cannot be read or holds no rows.
    """
    settings = parse_section(DataSettings, data, "data")
    name = connector_name(settings)
    frame = find_connector(name).read(settings.source, settings)
    if len(frame) == 0:
        raise DataError(f"{settings.source}: the dataset has no rows")
    log.info("read %d rows x %d columns with the %s connector", *frame.shape, name)
    return frame


def write_parquet(frame: pd.DataFrame, out: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``out`` as Parquet through a temporary file (no index)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet file of the pipeline, naming it when it is missing or invalid."""
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found; run the earlier pipeline stages first") from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a valid Parquet file ({_first_line(exc)})") from exc


def _read_with(
    source: str,
    settings: DataSettings,
    kind: str,
    reader: Callable[[object], pd.DataFrame],
) -> pd.DataFrame:
    import fsspec

    try:
        opened = fsspec.open(source, "rb", compression="infer", **settings.storage_options)
    except (ImportError, ValueError) as exc:  # unknown scheme, or its fsspec package is missing
        raise DataError(f"{source}: cannot open ({_first_line(exc)})") from exc
    try:
        with opened as handle:
            return reader(handle)
    except FileNotFoundError as exc:
        raise DataError(
            f"{source}: file not found; set data.source in params.yaml to an existing file or URL"
        ) from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"{source}: not a valid {kind} file ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
