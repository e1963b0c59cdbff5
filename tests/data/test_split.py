"""The split: stratified, seeded, complete and without overlap."""

from __future__ import annotations

import pytest

from mlops_gitops.data import split_dataset
from mlops_gitops.errors import ConfigError, DataError


def ids(frame):
    return set(frame["customer_id"])


def test_split_covers_every_row_once(small_sample):
    split = split_dataset(small_sample, "default")
    parts = [ids(part) for _, part in split.items()]
    assert sum(len(p) for p in parts) == len(small_sample)
    assert set().union(*parts) == ids(small_sample)
    assert parts[0].isdisjoint(parts[1]) and parts[1].isdisjoint(parts[2])


def test_split_sizes_follow_the_fractions(small_sample):
    settings = {"train": 0.6, "valid": 0.2, "test": 0.2}
    split = split_dataset(small_sample, "default", settings=settings)
    sizes = [len(part) for _, part in split.items()]
    assert sizes == pytest.approx([240, 80, 80], abs=2)


def test_stratified_split_keeps_the_class_balance_in_every_set(small_sample):
    overall = small_sample["default"].mean()
    for name, part in split_dataset(small_sample, "default").items():
        assert abs(part["default"].mean() - overall) <= 1 / len(part) + 1e-9, name


def test_same_seed_same_split_and_other_seed_other_split(small_sample):
    first = split_dataset(small_sample, "default", settings={"seed": 1})
    again = split_dataset(small_sample, "default", settings={"seed": 1})
    other = split_dataset(small_sample, "default", settings={"seed": 2})
    assert ids(first.test) == ids(again.test)
    assert ids(first.test) != ids(other.test)


def test_unstratified_split_is_seeded_too(small_sample):
    settings = {"stratify": False, "seed": 4}
    first = split_dataset(small_sample, "default", settings=settings)
    again = split_dataset(small_sample, "default", settings=settings)
    assert ids(first.valid) == ids(again.valid)


def test_rows_keep_their_original_order(small_sample):
    split = split_dataset(small_sample, "default")
    position = {cid: i for i, cid in enumerate(small_sample["customer_id"])}
    order = [position[c] for c in split.train["customer_id"]]
    assert order == sorted(order)
    assert list(split.train.index) == list(range(len(split.train)))


def test_fractions_must_sum_to_one(small_sample):
    with pytest.raises(ConfigError, match=r"prepare.split: train \+ valid \+ test must be 1"):
        split_dataset(small_sample, "default", settings={"train": 0.5})


def test_missing_label_values_are_refused(small_sample):
    frame = small_sample.astype({"default": "float64"})
    frame.loc[3, "default"] = None
    with pytest.raises(DataError, match="label column 'default' has 1 missing values"):
        split_dataset(frame, "default")


def test_absent_label_is_refused(small_sample):
    with pytest.raises(DataError, match="label column 'target' not in the dataset"):
        split_dataset(small_sample, "target")
