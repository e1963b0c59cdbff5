"""The label checks every task shares: the column is there, and has no missing values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from mlops_gitops.tasks.base import Classes, Labels, Task


def encode_labels(
    task: Task, frame: pd.DataFrame, label: str, *, origin: str, classes: Classes = None
) -> Labels:
    """Return the label column of ``frame`` checked and encoded by ``task``.

    Raises:
        DataError: the column is absent, or ``task`` refuses its values.
    """
    if label not in frame.columns:
        raise DataError(f"{origin}: no label column '{label}'; set data.label in params.yaml")
    return task.encode_labels(frame[label], origin=origin, classes=classes)


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
