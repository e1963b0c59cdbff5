"""Resolve the reference of a deployed version from its registration, by content hash.

The registration of ``MODEL@VERSION`` records the md5 of every data file
upstream of the artifact (from ``dvc.lock``), the params and the metric
files. The reference dataset is the data file whose name is
``monitoring.reference`` (``train`` or ``test``, e.g.
``data/prepared/train.parquet``); its object is taken from the DVC cache or
pulled from the default remote by hash and its bytes are checked against
the hash. The label column comes from the registered ``data.label`` param,
the test metrics from the registered metric files (top-level numbers; a
file whose path names ``evaluate`` or ``test`` wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlops_gitops.digest import file_md5
from mlops_gitops.errors import DataError
from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.input_schema import InputSchema, infer_schema
from mlops_gitops.monitoring.window import Reference

if TYPE_CHECKING:
    import pandas as pd

DATA_SUFFIXES = (".parquet", ".csv")
TEST_WORDS = ("evaluate", "test")


class ReferenceDataError(DataError):
    """The reference data of a deployed version cannot be resolved."""


def pick_reference_path(data: Mapping[str, str], which: str, origin: str) -> tuple[str, str]:
    """Return ``(path, md5)`` of the registered data file named ``which``."""
    for path, md5 in sorted(data.items()):
        pure = PurePosixPath(path)
        if pure.stem == which and pure.suffix in DATA_SUFFIXES:
            return path, md5
    known = ", ".join(sorted(data)) or "none"
    raise ReferenceDataError(
        f"{origin}: no registered data file named '{which}' (data: {known}); "
        "set monitoring.reference to train or test"
    )


def read_data_file(path: Path, name: str) -> pd.DataFrame:
    """Read a Parquet or CSV reference file (``name`` says which format)."""
    import pandas as pd

    try:
        return pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"{name}: cannot read the reference data ({exc})") from exc


def metrics_of_test_set(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Return the top-level numbers of the registered metric files; evaluate/test files win."""
    found: dict[str, float] = {}
    ranked = sorted(metrics.items(), key=lambda item: any(w in item[0] for w in TEST_WORDS))
    for _, values in ranked:
        if not isinstance(values, Mapping):
            continue
        nested = values.get("test")
        for source in (values, nested if isinstance(nested, Mapping) else {}):
            for key, value in source.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    found[str(key)] = float(value)
    return found


def resolve_reference(root: Path, model: str, version: str, config: MonitoringConfig) -> Reference:
    """Return the reference of a registered version: data by hash, label, test metrics."""
    from mlops_gitops.pipeline import fetch_object
    from mlops_gitops.registry import find_version
    from mlops_gitops.registry.versions import label_of

    registration = find_version(root, model, version)
    origin = f"{model}@{version}"
    path, md5 = pick_reference_path(registration.data or {}, config.reference, origin)
    local = fetch_object(root, md5)
    if file_md5(local) != md5:
        raise ReferenceDataError(f"{origin}: {path} in the DVC cache does not match its hash {md5}")
    frame = read_data_file(local, path)
    return Reference(
        model=model,
        version=version,
        frame=frame,
        label=label_of(registration.params or {}),
        test_metrics=metrics_of_test_set(registration.metrics or {}),
        source=f"{path} (md5 {md5[:12]})",
    )


def resolve_input_schema(
    root: Path, model: str, version: str, *, features: Sequence[str], config: MonitoringConfig
) -> InputSchema:
    """Return the input schema of a registered version, for real-time validation in serving."""
    reference = resolve_reference(root, model, version, config)
    missing = [name for name in features if name not in reference.frame.columns]
    if missing:
        raise ReferenceDataError(
            f"{model}@{version}: inputs {', '.join(missing)} are not in the reference data "
            f"({reference.source})"
        )
    return infer_schema(reference.frame, features, range_tolerance=config.quality.range_tolerance)
