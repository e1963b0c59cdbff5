"""Prediction and feedback logs: the exact format the monitoring module reads."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers.serving import ROW, v2_body

pytestmark = pytest.mark.slow

COLUMNS = [
    "timestamp",
    "request_id",
    "model",
    "version",
    "age",
    "income",
    "region",
    "prediction",
    "score",
]


def test_predictions_are_logged_to_parquet_per_model(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        one = client.post(
            "/v2/models/credit/infer", json=v2_body([ROW]), headers={"x-request-id": "req-1"}
        )
        two = client.post(
            "/v1/models/credit:predict", json={"instances": [ROW, {**ROW, "age": 20}]}
        )
    server.state.predictions.flush()
    parts = sorted(
        (serving_root / "logs" / "predictions" / "dev" / "credit").glob("part-*.parquet")
    )
    assert parts and all(p.name.count("-") == 3 and "T" in p.name for p in parts)
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert list(frame.columns) == COLUMNS
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["prediction"].dtype == "int64" and frame["score"].dtype == "float64"
    assert frame["age"].dtype == "float64" and frame["region"].tolist() == ["north"] * 3
    rid = two.json()["id"]
    assert frame["request_id"].tolist() == ["req-1", f"{rid}#0", f"{rid}#1"]
    assert frame["version"].unique().tolist() == ["v1.0.0"]
    assert one.json()["id"] == "req-1"
    assert frame.loc[2, "age"] == 20.0


def test_feedback_is_appended_as_jsonl_by_request_id(serving_root, start_server):
    server = start_server(serving_root)
    server.wait_ready()
    with server.client() as client:
        single = client.post("/v2/models/credit/feedback", json={"request_id": "req-1", "label": 1})
        many = client.post(
            "/v2/models/credit/feedback",
            json=[{"request_id": "a", "label": 0}, {"request_id": "b", "label": 1}],
        )
        bad = client.post("/v2/models/credit/feedback", json={"label": 1})
        word = client.post("/v2/models/credit/feedback", json={"request_id": "c", "label": "yes"})
    assert single.json() == {"recorded": 1} and many.json() == {"recorded": 2}
    assert bad.status_code == 422 and bad.json()["field"] == "body"
    assert word.status_code == 422 and word.json() == {
        "error": "credit feedback: label 'label' must hold 0 and 1 only (found yes) (task binary)",
        "field": "label",
    }
    folder = serving_root / "logs" / "predictions" / "dev" / "credit"
    server.stop()  # stopping flushes the queued feedback
    files = sorted(folder.glob("feedback-*.jsonl"))
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert [(x["request_id"], x["label"]) for x in lines] == [("req-1", 1), ("a", 0), ("b", 1)]
    assert all(x["timestamp"].endswith("Z") for x in lines)


def test_full_log_queue_drops_and_counts(tmp_path):
    import numpy as np

    from mlops_gitops.serving.model import ModelSchema, Rows, ServedInput
    from mlops_gitops.serving.plan import PredictionLogSettings
    from mlops_gitops.serving.predlog import PredictionBatch, PredictionLog

    schema = ModelSchema((ServedInput("x", "numeric", "tensor(float)"),), ())
    rows = Rows(schema, np.array([[1.0]]), {})
    dropped = []
    log = PredictionLog(tmp_path, PredictionLogSettings(queue_size=0), on_drop=dropped.append)
    batch = PredictionBatch(
        model="m",
        version="v1",
        request_id="r",
        timestamp_us=0,
        columns=rows,
        predictions=np.array([1]),
        scores=np.array([0.5]),
    )
    try:
        assert log.record(batch) is False
    finally:
        log.close()
    assert log.dropped == 1 and dropped == ["m"]


def test_log_rotates_into_several_part_files(tmp_path):
    import numpy as np

    from mlops_gitops.serving.model import ModelSchema, Rows, ServedInput
    from mlops_gitops.serving.plan import PredictionLogSettings
    from mlops_gitops.serving.predlog import PredictionBatch, PredictionLog

    schema = ModelSchema((ServedInput("x", "numeric", "tensor(float)"),), ())
    log = PredictionLog(tmp_path, PredictionLogSettings(rotate_rows=2), clock=lambda: 1768471200.0)
    try:
        for i in range(5):
            rows = Rows(schema, np.array([[float(i)]]), {})
            log.record(
                PredictionBatch(
                    model="m",
                    version="v1",
                    request_id=f"r{i}",
                    timestamp_us=i,
                    columns=rows,
                    predictions=np.array([1]),
                    scores=np.array([0.5]),
                )
            )
        log.flush()
    finally:
        log.close()
    names = sorted(p.name for p in (tmp_path / "m").glob("part-*.parquet"))
    writer = log._writer  # unique per process, so replicas sharing a store never collide
    assert names == [f"part-20260115T100000-00000{i}-{writer}.parquet" for i in (1, 2, 3)]
    assert log.written_rows == 5


def test_failed_write_is_counted_and_never_reaches_the_request(tmp_path):
    import numpy as np

    from mlops_gitops.serving.model import ModelSchema, Rows, ServedInput
    from mlops_gitops.serving.plan import PredictionLogSettings
    from mlops_gitops.serving.predlog import PredictionBatch, PredictionLog

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be")
    schema = ModelSchema((ServedInput("x", "numeric", "tensor(float)"),), ())
    log = PredictionLog(blocked, PredictionLogSettings())
    rows = Rows(schema, np.array([[1.0]]), {})
    try:
        assert log.record(
            PredictionBatch(
                model="m",
                version="v1",
                request_id="r",
                timestamp_us=0,
                columns=rows,
                predictions=np.array([1]),
                scores=np.array([0.5]),
            )
        )
        log.record_feedback("m", "r", 1)
        log.flush()
    finally:
        log.close()
    assert log.write_failures == 2 and log.written_rows == 0
