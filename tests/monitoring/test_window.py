"""Monitoring one window of logs against a reference: traffic, columns, performance, quality."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.logs import list_parts, read_feedback, read_predictions
from mlops_gitops.monitoring.window import MonitoringError, Reference, monitor
from tests.helpers.monitoring import NOW, make_frame, write_feedback, write_log

WINDOW = (NOW - timedelta(hours=24), NOW)


def _reference() -> Reference:
    return Reference(
        model="credit-default",
        version="v1.0.0",
        frame=make_frame(3000, seed=1),
        label="default",
        test_metrics={"accuracy": 0.9, "roc_auc": 0.95},
        source="train.parquet",
    )


def test_empty_window_is_a_no_traffic_result(tmp_path: Path) -> None:
    logs = read_predictions(tmp_path / "none", *WINDOW)
    result = monitor(
        _reference(), logs, read_feedback(tmp_path, WINDOW[0]), MonitoringConfig(), window=WINDOW
    )
    assert result.status == "no traffic" and result.rows == 0
    assert result.indicators == {"traffic.rows": 0.0}


def test_rows_outside_the_window_are_left_out(tmp_path: Path) -> None:
    write_log(tmp_path, make_frame(10, seed=2), start=NOW - timedelta(hours=30), step=3600)
    frame = read_predictions(tmp_path, *WINDOW)
    assert len(frame) == 4
    assert frame["timestamp"].min() >= WINDOW[0]


def test_part_files_are_picked_from_the_last_one_opened_before_the_window(tmp_path: Path) -> None:
    for hour in (0, 10, 20, 30):
        (tmp_path / f"part-20260114T{hour % 24:02d}0000-{hour}.parquet").touch()
    names = [p.name for p in list_parts(tmp_path, NOW - timedelta(hours=2), NOW)]
    assert names == ["part-20260114T200000-20.parquet"]


def test_drifted_window_reports_drift_performance_and_quality(tmp_path: Path) -> None:
    current = make_frame(1500, seed=2, shift=1.0)
    current.loc[:9, "income"] = np.nan
    logged = write_log(tmp_path, current, start=NOW - timedelta(hours=1), step=1)
    write_feedback(tmp_path, logged, current["default"].to_numpy(), NOW)
    result = monitor(
        _reference(), read_predictions(tmp_path, *WINDOW), read_feedback(tmp_path, WINDOW[0]),
        MonitoringConfig(), window=WINDOW,
    )  # fmt: skip
    values = result.indicators
    assert result.status == "ok" and result.rows == 1500
    assert values["drift.share"] == pytest.approx(2 / 3)
    assert values["drift.feature.region.psi"] > 0.2
    assert values["performance.labelled_rows"] == 1500
    assert values["performance.accuracy_drop"] == pytest.approx(
        0.9 - values["performance.accuracy"]
    )
    assert values["quality.missing_rate"] == pytest.approx(10 / 1500 / 3)
    assert values["prediction.positive_rate_delta"] > 0
    assert result.performance is not None and result.performance.buckets[0].rows == 1500


def test_live_metrics_match_scikit_learn(tmp_path: Path) -> None:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    current = make_frame(400, seed=4)
    logged = write_log(tmp_path, current, start=NOW - timedelta(hours=1))
    write_feedback(tmp_path, logged, current["default"].to_numpy(), NOW)
    result = monitor(
        _reference(), read_predictions(tmp_path, *WINDOW), read_feedback(tmp_path, WINDOW[0]),
        MonitoringConfig(), window=WINDOW,
    )  # fmt: skip
    assert result.performance is not None
    live = result.performance.metrics
    y, p, s = current["default"], logged["prediction"], logged["score"]
    assert live["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert live["f1"] == pytest.approx(f1_score(y, p))
    assert live["roc_auc"] == pytest.approx(roc_auc_score(y, s))


def test_few_labels_give_no_performance_figures(tmp_path: Path) -> None:
    current = make_frame(100, seed=4)
    logged = write_log(tmp_path, current, start=NOW - timedelta(hours=1))
    write_feedback(tmp_path, logged.head(5), current["default"].to_numpy()[:5], NOW)
    result = monitor(
        _reference(), read_predictions(tmp_path, *WINDOW), read_feedback(tmp_path, WINDOW[0]),
        MonitoringConfig(), window=WINDOW,
    )  # fmt: skip
    assert "performance.accuracy" not in result.indicators
    assert (
        result.performance is not None
        and "fewer than performance.min_labels=20" in result.performance.note
    )


def test_logged_columns_that_do_not_match_the_reference_are_one_line_error(tmp_path: Path) -> None:
    frame = make_frame(50, seed=2).rename(columns={"income": "salary"})
    logged = write_log(
        tmp_path, frame.assign(income=frame["salary"]), start=NOW - timedelta(hours=1)
    )
    logged = logged.rename(columns={"income": "salary"})
    with pytest.raises(MonitoringError) as caught:
        monitor(
            _reference(), logged, pd.DataFrame(), MonitoringConfig(), window=WINDOW, origin="logs/m"
        )
    message = str(caught.value)
    assert message.startswith(
        "logs/m: logged columns do not match the reference of credit-default v1.0.0"
    )
    assert "'salary' not in the reference data (train.parquet)" in message
    assert "\n" not in message


def test_numeric_reference_column_logged_as_text_is_refused(tmp_path: Path) -> None:
    logged = write_log(tmp_path, make_frame(20, seed=2), start=NOW - timedelta(hours=1))
    logged["age"] = "old"
    with pytest.raises(MonitoringError, match="column 'age' is numeric in the reference"):
        monitor(_reference(), logged, pd.DataFrame(), MonitoringConfig(), window=WINDOW)


def test_bad_feedback_line_names_the_file_and_line(tmp_path: Path) -> None:
    from mlops_gitops.monitoring.logs import LogError

    (tmp_path / "feedback-2026-01-15.jsonl").write_text(
        '{"request_id": "a", "label": 1}\nnot json\n'
    )
    with pytest.raises(LogError, match=r"feedback-2026-01-15.jsonl:2: not valid JSON"):
        read_feedback(tmp_path, WINDOW[0])


def test_empty_string_category_is_a_missing_value_not_a_new_category(tmp_path: Path) -> None:
    current = make_frame(300, seed=2)
    logged = write_log(tmp_path, current, start=NOW - timedelta(hours=1))
    logged.loc[:29, "region"] = ""
    result = monitor(_reference(), logged, pd.DataFrame(), MonitoringConfig(), window=WINDOW)
    assert result.quality is not None
    assert result.quality.missing_by_feature["region"] == pytest.approx(0.1)
    assert "region:unknown_category" not in result.quality.violations
