"""Resolve the reference of a deployed version from its registration, by content hash.

The registration of ``MODEL@VERSION`` records the md5 of every data file
upstream of the artifact (from ``dvc.lock``), the params and the metric
files. The reference dataset is the data file whose name is
``monitoring.reference`` (``train`` or ``test``, e.g.
``data/prepared/train.parquet``); its object is taken from the DVC cache or
pulled from the default remote by hash and its bytes are checked against
the hash. The label column comes from the registered ``data.label`` param,
the test metrics from the registered metric files (top-level numbers; a
file whose path names ``evaluate`` or ``test`` wins). The registered model
artifact is taken the same way: its contract gives the task, class names and
recorded threshold monitoring judges by, and it scores the reference rows
(the reference of prediction drift; the monitoring metrics the metric files
lack, binary ``brier``, are computed there). A model that is not available
is monitored as a binary classifier, as before tasks were recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlops_gitops.digest import file_md5
from mlops_gitops.errors import DataError, MlopsError
from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.input_schema import InputSchema, infer_schema
from mlops_gitops.monitoring.window import Reference
from mlops_gitops.tasks import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnxruntime
    import pandas as pd

    from mlops_gitops.contract import ModelContract
    from mlops_gitops.registry.versions import ArtifactRef

log = logging.getLogger(__name__)

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
    """Return the reference of a registered version: data by hash, label, test metrics, model."""
    from mlops_gitops.pipeline import fetch_object

    reference, artifact = _registered_data(root, model, version, config)
    if artifact is None:
        return reference
    try:
        model_file = fetch_object(root, artifact.md5)
    except MlopsError as exc:  # a model exported before tasks were recorded reads as binary
        log.warning(
            "%s@%s: the model is not available, monitored as binary: %s", model, version, exc
        )
        return reference
    return with_model(reference, model_file)


def _registered_data(
    root: Path, model: str, version: str, config: MonitoringConfig
) -> tuple[Reference, ArtifactRef | None]:
    """Return the registered reference data, label and test metrics, and the model artifact."""
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
    reference = Reference(
        model=model,
        version=version,
        frame=frame,
        label=label_of(registration.params or {}),
        test_metrics=metrics_of_test_set(registration.metrics or {}),
        source=f"{path} (md5 {md5[:12]})",
    )
    return reference, registration.artifact


def with_model(reference: Reference, model_file: Path) -> Reference:
    """Return ``reference`` with the served model's contract and its outputs on the reference.

    The task, class names and threshold come from the model's contract; the
    model scores the reference rows (logged as the server logs them), and the
    monitoring metrics the test metric files lack (binary ``brier``) are
    computed on those rows when they hold the label.

    Raises:
        ContractError: the file is not a model that follows the contract.
    """
    import numpy as np
    import pandas as pd

    from mlops_gitops.contract import open_session, read_contract

    what = f"{reference.model}@{reference.version} model"
    session = open_session(model_file, what=what)
    contract = read_contract(session, what=what)
    reference = replace(
        reference, task=contract.task, classes=contract.classes, threshold=contract.threshold
    )
    missing = [n for n in contract.names if n not in reference.frame.columns]
    if missing:
        raise ReferenceDataError(
            f"{what}: inputs {', '.join(missing[:5])} are not in the reference data "
            f"({reference.source})"
        )
    scores = _scores(session, contract, reference.frame)
    judged = reference.judged()
    threshold = DEFAULT_THRESHOLD if contract.threshold is None else contract.threshold
    decided = judged.task.decide(scores, threshold=threshold)
    flat = scores[np.arange(len(scores)), decided.astype(np.int64)] if scores.ndim == 2 else scores
    outputs = pd.DataFrame(
        {"prediction": judged.task.decode(decided, contract.classes), "score": flat}
    )
    filled = {**_reference_metrics(reference, scores, decided), **reference.test_metrics}
    return replace(reference, outputs=outputs, test_metrics=filled)


def _scores(
    session: onnxruntime.InferenceSession, contract: ModelContract, frame: pd.DataFrame
) -> npt.NDArray[np.float64]:
    """Return the model's decision scores on ``frame`` (inputs built as the contract says)."""
    import numpy as np

    from mlops_gitops.contract import MISSING_CATEGORY
    from mlops_gitops.tasks import load_task

    feeds = {}
    for name, kind in contract.input_types.items():
        column = frame[name]
        if kind == "tensor(string)":
            text = column.astype(object).where(column.notna(), MISSING_CATEGORY).astype(str)
            feeds[name] = text.to_numpy(dtype=object).reshape(-1, 1)
        else:
            dtype = np.float64 if kind == "tensor(double)" else np.float32
            feeds[name] = column.to_numpy(dtype=dtype, na_value=np.nan).reshape(-1, 1)
    predicted = np.asarray(session.run(None, feeds)[-1], dtype=np.float64)
    return load_task(contract.task).decision_scores(predicted)


def _reference_metrics(
    reference: Reference, scores: npt.NDArray[np.float64], decided: npt.NDArray[np.generic]
) -> dict[str, float]:
    """Return the task's monitoring metrics on the reference rows (none without the label)."""
    import numpy as np

    from mlops_gitops.tasks import watch_of

    judged = reference.judged()
    metrics = [m for m in watch_of(judged.task).metrics if m.name not in reference.test_metrics]
    if not metrics or reference.label is None or reference.label not in reference.frame.columns:
        return {}
    column = reference.frame[reference.label]
    labels = judged.task.encode_labels(
        column, origin=reference.source or "reference", classes=judged.classes
    ).values
    values = {m.name: float(m.compute(labels, scores, decided)) for m in metrics}
    return {name: value for name, value in values.items() if np.isfinite(value)}


def resolve_input_schema(
    root: Path, model: str, version: str, *, features: Sequence[str], config: MonitoringConfig
) -> InputSchema:
    """Return the input schema of a registered version, for real-time validation in serving."""
    reference = _registered_data(root, model, version, config)[0]
    missing = [name for name in features if name not in reference.frame.columns]
    if missing:
        raise ReferenceDataError(
            f"{model}@{version}: inputs {', '.join(missing)} are not in the reference data "
            f"({reference.source})"
        )
    return infer_schema(reference.frame, features, range_tolerance=config.quality.range_tolerance)
