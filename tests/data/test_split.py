"""The split: stratified, seeded, complete and without overlap; by time and by group."""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_gitops.data import generate_kind, split_dataset
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


def test_time_split_puts_train_dates_before_valid_before_test():
    frame = generate_kind("forecast", 600, 3)
    settings = {"by": "time", "column": "order_date"}
    split = split_dataset(frame, "units_sold", settings=settings, task="regression")
    train, valid, test = (pd.to_datetime(p["order_date"]) for _, p in split.items())
    assert train.max() < valid.min() and valid.max() < test.min()
    assert [len(p) for _, p in split.items()] == pytest.approx([420, 90, 90], abs=6)
    assert sum(len(p) for _, p in split.items()) == len(frame)


def test_time_split_keeps_rows_of_one_date_together():
    dates = ["2024-01-01"] * 5 + ["2024-01-02"] * 3 + ["2024-01-03"] * 2
    frame = pd.DataFrame({"day": dates[::-1], "y": range(10)})
    settings = {"by": "time", "column": "day", "train": 0.5, "valid": 0.3, "test": 0.2}
    split = split_dataset(frame, "y", settings=settings, task="regression")
    assert [sorted(set(p["day"])) for _, p in split.items()] == [
        ["2024-01-01"],
        ["2024-01-02"],
        ["2024-01-03"],
    ]


def test_group_split_never_puts_one_entity_in_two_sets():
    frame = generate_kind("forecast", 900, 5)
    settings = {"by": "group", "column": "store_id", "seed": 3}
    split = split_dataset(frame, "units_sold", settings=settings, task="regression")
    train, valid, test = (set(p["store_id"]) for _, p in split.items())
    assert train.isdisjoint(valid) and train.isdisjoint(test) and valid.isdisjoint(test)
    assert len(train | valid | test) == frame["store_id"].nunique()
    assert len(split.train) == pytest.approx(0.7 * 900, abs=60)
    again = split_dataset(frame, "units_sold", settings=settings, task="regression")
    assert split.test.equals(again.test)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"by": "time", "column": "when"},
            r"^params.yaml prepare.split.column: 'when' is not a column of the dataset",
        ),
        (
            {"by": "time", "column": "income"},
            r"^params.yaml prepare.split.column: 'income' holds float64 values, not dates",
        ),
        (
            {"by": "time", "column": "region"},
            r"^params.yaml prepare.split.column: 'region' is not parseable as dates",
        ),
        (
            {"by": "group", "column": "housing"},
            r"^params.yaml prepare.split.column: 'housing' has \d+ missing values$",
        ),
        (
            {"by": "time", "column": "sex"},
            r"^params.yaml prepare.split.column: 'sex' is not parseable as dates",
        ),
    ],
)
def test_a_split_column_that_does_not_fit_is_one_line(small_sample, settings, message):
    with pytest.raises(DataError, match=message) as caught:
        split_dataset(small_sample, "default", settings=settings)
    assert "\n" not in str(caught.value)


def test_a_time_split_over_too_few_dates_is_refused():
    frame = pd.DataFrame({"day": ["2024-01-01"] * 9 + ["2024-01-02"], "y": range(10)})
    with pytest.raises(DataError, match=r"'day' has too few distinct values \(2\)"):
        split_dataset(frame, "y", settings={"by": "time", "column": "day"}, task="regression")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"by": "time"}, r"prepare.split: split by time needs column"),
        ({"column": "region"}, r"prepare.split: column is read by 'by: time' or 'by: group' only"),
        ({"by": "date", "column": "x"}, r"prepare.split.by: "),
    ],
)
def test_split_settings_name_the_field(small_sample, settings, message):
    with pytest.raises(ConfigError, match=message):
        split_dataset(small_sample, "default", settings=settings)
