"""Split a dataset into train, validation and test sets: random, by time or by group.

The same frame, fractions and seed always give the same three sets, so the
test set is reproducible and its file hash (recorded by DVC) only changes
when the data or the split parameters change. ``prepare.split.by`` picks the
method: ``random`` (the default) stratifies only for a task whose labels are
classes (``Task.stratifies``: a regression label is not, an anomaly label is
when the data has one, a clustering never is); ``time`` orders the rows by a
date column and gives the earliest to train, then valid, then test, rows of
one date in one set; ``group`` keeps every row of one entity (a customer, a
store) in one set. Neither ``time`` nor ``group`` stratifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_gitops.data.settings import SplitSettings
from mlops_gitops.errors import DataError
from mlops_gitops.params import PARAMS_FILE, parse_section
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
    if split.by != "random":
        return _ordered_split(frame, split)
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
    return _take(frame, [np.concatenate(p) for p in parts])


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


def _take(frame: pd.DataFrame, parts: list[np.ndarray]) -> Split:
    train, valid, test = (frame.iloc[np.sort(p)].reset_index(drop=True) for p in parts)
    return Split(train, valid, test)


def _ordered_split(frame: pd.DataFrame, split: SplitSettings) -> Split:
    """Cut the rows in the order of a key; rows that share a key value stay in one set.

    A run of equal keys that straddles a cut goes to the set that holds
    its middle row, so the shares are kept as nearly as the runs allow.
    """
    column = str(split.column)
    where = f"{PARAMS_FILE} prepare.split.column"
    if column not in frame.columns:
        raise DataError(f"{where}: '{column}' is not a column of the dataset (split by {split.by})")
    values = frame[column]
    key = _dates(values, where) if split.by == "time" else _groups(values, split, where)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    # Each row takes the middle position of its run of equal keys, so ties share a set.
    middle = (
        np.searchsorted(ordered, ordered, side="left")
        + np.searchsorted(ordered, ordered, side="right")
        - 1
    ) / 2
    cut_train = round(len(frame) * split.train)
    cut_valid = cut_train + round(len(frame) * split.valid)
    sets = np.digitize(middle, [cut_train, cut_valid])
    parts = [order[sets == i] for i in range(3)]
    shares = (split.train, split.valid, split.test)
    if any(share > 0 and not len(part) for share, part in zip(shares, parts, strict=True)):
        raise DataError(
            f"{where}: '{column}' has too few distinct values ({len(np.unique(key))}) "
            f"to fill train, valid and test split by {split.by}"
        )
    return _take(frame, parts)


def _dates(column: pd.Series, where: str) -> np.ndarray:
    name = column.name
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        raise DataError(f"{where}: '{name}' holds {column.dtype} values, not dates (split by time)")
    try:
        dates = pd.to_datetime(column, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: '{name}' is not parseable as dates (split by time)") from exc
    if dates.isna().any():
        raise DataError(f"{where}: '{name}' has {int(dates.isna().sum())} missing dates")
    values: np.ndarray = dates.to_numpy("datetime64[ns]").astype(np.int64)
    return values


def _groups(column: pd.Series, split: SplitSettings, where: str) -> np.ndarray:
    if column.isna().any():
        raise DataError(f"{where}: '{column.name}' has {int(column.isna().sum())} missing values")
    codes, uniques = pd.factorize(column, sort=True)
    # A seeded random order of the entities, the same for the same entities and seed.
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.random.default_rng(split.seed).permutation(len(uniques))] = np.arange(len(uniques))
    ranked: np.ndarray = rank[codes]
    return ranked
