"""Each task's label checks: one-line errors that name the file and the label, then encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.errors import ConfigError, DataError
from mlops_gitops.tasks import BUILTIN_TASKS, Task, encode_labels, list_tasks, load_task


def _encode(task: str, values, classes=None):
    frame = pd.DataFrame({"y": values})
    return encode_labels(load_task(task), frame, "y", origin="t.parquet", classes=classes)


def _refused(task: str, values, classes=None) -> str:
    with pytest.raises(DataError) as info:
        _encode(task, values, classes)
    message = str(info.value)
    assert "\n" not in message and message.startswith("t.parquet: label 'y'"), message
    return message


def test_builtin_tasks_follow_the_protocol_and_are_listed():
    assert list(BUILTIN_TASKS) == ["binary", "multiclass", "regression", "clustering", "anomaly"]
    assert set(BUILTIN_TASKS) <= set(list_tasks())
    for name in BUILTIN_TASKS:
        task = load_task(name)
        assert isinstance(task, Task) and task.name == name
        assert task.headline in [m.name for m in task.metrics]


def test_an_unknown_task_names_the_known_ones():
    with pytest.raises(ConfigError) as info:
        load_task("ranking")
    assert str(info.value).startswith("params.yaml model.task: unknown task 'ranking'; known:")
    assert "anomaly, binary, clustering, multiclass, regression" in str(info.value)


def test_binary_refuses_a_third_label_value_and_points_to_multiclass():
    message = _refused("binary", [0, 1, 2])
    assert "must hold 0 and 1 only (found 2)" in message and "model.task: multiclass" in message


def test_binary_keeps_zero_and_one_as_int_codes():
    labels = _encode("binary", [1, 0, 1])
    assert labels.values.dtype == np.int64 and labels.values.tolist() == [1, 0, 1]
    assert labels.classes == ("0", "1")


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_single_class_is_refused_for_training_only(task):
    assert "has one class only" in _refused(task, [1, 1, 1])
    assert _encode(task, [1, 1], classes=("0", "1")).values.tolist() == [1, 1]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_nan_labels_are_refused(task):
    message = _refused(task, [0.0, np.nan, 1.0, 2.5][: 3 if task != "regression" else 4])
    assert "missing values" in message


def test_multiclass_keeps_class_names_sorted_and_encodes_later_sets_the_same_way():
    labels = _encode("multiclass", ["mid", "low", "high", "low"])
    assert labels.classes == ("high", "low", "mid")
    assert labels.values.tolist() == [2, 1, 0, 1]
    again = _encode("multiclass", ["low", "mid"], classes=labels.classes)
    assert again.values.tolist() == [1, 2]
    assert load_task("multiclass").decode(again.values, labels.classes) == ["low", "mid"]


def test_multiclass_sorts_numeric_classes_by_value():
    assert _encode("multiclass", [10, 2, 1, 2]).classes == ("1", "2", "10")


def test_multiclass_refuses_a_class_the_model_was_not_trained_on():
    message = _refused("multiclass", ["low", "huge"], classes=("high", "low"))
    assert "holds huge, not among the classes the model was trained on (high, low)" in message


def test_regression_refuses_strings_and_points_to_multiclass():
    message = _refused("regression", ["a", "b", "c"])
    assert "must be numeric for task regression (found 'a', 'b', 'c')" in message
    assert "model.task: multiclass" in message


def test_regression_refuses_a_constant_label_and_keeps_floats():
    assert "has one value only" in _refused("regression", [3.0, 3.0])
    assert _encode("regression", [1, 2, 3]).values.tolist() == [1.0, 2.0, 3.0]


def test_a_missing_label_column_names_the_param():
    with pytest.raises(DataError, match=r"no label column 'y'; set data\.label"):
        encode_labels(load_task("regression"), pd.DataFrame({"x": [1]}), "y", origin="t.parquet")


def test_only_classification_and_anomaly_stratify():
    assert {name: load_task(name).stratifies for name in BUILTIN_TASKS} == {
        "binary": True,
        "multiclass": True,
        "regression": False,
        "clustering": False,
        "anomaly": True,
    }
