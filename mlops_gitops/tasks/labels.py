"""The label checks every task shares: the column is there, and has no missing values.

An unsupervised task (``Task.supervised`` false) fits without a label: when
the data has none (``data.label: null``), its labels are NaN, one per row,
and the metrics that need labels are NaN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError
from mlops_gitops.tasks.base import Labels

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from mlops_gitops.tasks.base import Classes, Task


def encode_labels(
    task: Task, frame: pd.DataFrame, label: str | None, *, origin: str, classes: Classes = None
) -> Labels:
    """Return the label column of ``frame`` checked and encoded by ``task``.

    Raises:
        DataError: the column is absent (and ``task`` needs it), or ``task``
            refuses its values.
    """
    if label is None:
        if not task.supervised:
            return unlabelled(len(frame))
        raise DataError(
            f"params.yaml data.label: task {task.name} needs a label column; name it there"
        )
    if label not in frame.columns:
        fix = "" if task.supervised else f" (or null: task {task.name} can do without)"
        raise DataError(f"{origin}: no label column '{label}'; set data.label in params.yaml{fix}")
    return task.encode_labels(frame[label], origin=origin, classes=classes)


def unlabelled(rows: int) -> Labels:
    """Return the labels of ``rows`` rows without a label: NaN each."""
    import numpy as np

    return Labels(np.full(rows, np.nan))


def has_labels(values: npt.NDArray[np.generic]) -> bool:
    """Return whether ``values`` are labels, not the NaN of :func:`unlabelled` (or empty)."""
    import numpy as np

    if values.size == 0:
        return False
    return not (values.dtype.kind == "f" and bool(np.isnan(values.astype(np.float64)).all()))


def check_complete(column: pd.Series, label: str, *, origin: str) -> None:
    """Refuse a label column with missing values.

    Raises:
        DataError: naming how many values are missing.
    """
    missing = int(column.isna().sum())
    if missing:
        raise DataError(
            f"{origin}: label '{label}' has {missing} missing values; "
            "drop or fill those rows before training"
        )
