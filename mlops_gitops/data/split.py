"""Split a dataset into train, validation and test sets: stratified and seeded.

The same frame, fractions and seed always give the same three sets, so the
test set is reproducible and its file hash (recorded by DVC) only changes
when the data or the split parameters change. Only a task whose labels are
classes is stratified (``Task.stratifies``): a regression label is not,
an anomaly label is (when the data has one), a clustering never is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_gitops.data.settings import SplitSettings
from mlops_gitops.errors import DataError
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import DEFAULT_TASK, load_task

SPLIT_NAMES = ("train", "valid", "test")


@dataclass(frozen=True)
class Split:
    """The three sets of a split, each with the rows in their original order."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    def items(self) -> list[tuple[str, pd.DataFrame]]:
        """Return ``(name, frame)`` pairs in the order train, valid, test."""
        return [("train", self.train), ("valid", self.valid), ("test", self.test)]


def split_dataset(
    frame: pd.DataFrame,
    label: str | None,
    *,
    settings: SplitSettings | Mapping[str, object] | None = None,
    task: str = DEFAULT_TASK,
) -> Split:
    """Split ``frame`` by the fractions of ``settings`` (``prepare.split``).

    With ``stratify``, and a ``task`` that stratifies, each label value is
    split on its own, so each set has the label's class balance (to within
    one row per class).

    Raises:
        DataError: the label column is absent or has missing values.
    """
    split = parse_section(SplitSettings, settings or {}, "prepare.split")
    kind = load_task(task)
    labels = _label_column(frame, label, supervised=kind.supervised)
    rng = np.random.default_rng(split.seed)
    groups = (
        [np.flatnonzero((labels == value).to_numpy()) for value in sorted(labels.unique())]
        if labels is not None and split.stratify and kind.stratifies
        else [np.arange(len(frame))]
    )
    parts: list[list[np.ndarray]] = [[], [], []]
    for members in groups:
        shuffled = rng.permutation(members)
        cut_train = round(len(shuffled) * split.train)
        cut_valid = cut_train + round(len(shuffled) * split.valid)
        for part, chunk in zip(parts, np.split(shuffled, [cut_train, cut_valid]), strict=True):
            part.append(chunk)
    train, valid, test = (frame.iloc[np.sort(np.concatenate(p))] for p in parts)
    return Split(
        train.reset_index(drop=True), valid.reset_index(drop=True), test.reset_index(drop=True)
    )


def _label_column(frame: pd.DataFrame, label: str | None, *, supervised: bool) -> pd.Series | None:
    # An unsupervised task splits data without a label (data.label: null) at random.
    if label is None:
        if not supervised:
            return None
        raise DataError("params.yaml data.label: the task needs a label column; name it there")
    if label not in frame.columns:
        raise DataError(f"label column '{label}' not in the dataset; check data.label")
    labels = frame[label]
    if labels.isna().any():
        raise DataError(f"label column '{label}' has {int(labels.isna().sum())} missing values")
    return labels
