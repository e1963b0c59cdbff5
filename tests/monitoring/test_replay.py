"""The traffic replayer against a stand-in inference server on 127.0.0.1."""

from __future__ import annotations

import pytest

from mlops_gitops.data.sample import PII_COLUMNS
from mlops_gitops.monitoring.replay import ReplayError, replay_traffic
from tests.monitoring.oip_fake import INPUTS, fake_oip_server


def test_replay_sends_only_model_inputs_then_labels_under_logged_ids() -> None:
    with fake_oip_server() as server:
        result = replay_traffic(server.url, "credit-default", rows=400, batch=200, drift=1.0)
    assert (result.rows, result.requests, result.failed, result.labels) == (400, 2, 0, 400)
    first = server.predicts[0]
    assert first["id"] == "replay-0000000" and len(first["instances"]) == 200
    sent_columns = set(first["instances"][0])
    assert sent_columns == set(INPUTS)
    assert not sent_columns & set(PII_COLUMNS)
    rows = [row for body in server.predicts for row in body["instances"]]
    assert all(isinstance(row["housing"], str) for row in rows)
    assert any(row["housing"] == "" for row in rows)  # a missing category, as the export expects
    assert any(row["income"] is None for row in rows)  # a missing number is null
    assert server.feedback[0]["request_id"] == "replay-0000000#0"
    assert {item["label"] for item in server.feedback} <= {0, 1}


def test_replay_to_a_server_that_refuses_everything_fails() -> None:
    with (
        fake_oip_server(refuse=True) as server,
        pytest.raises(ReplayError, match="refused every request"),
    ):
        replay_traffic(server.url, "credit-default", rows=20, batch=10)


def test_replay_to_an_unknown_model_names_it() -> None:
    with fake_oip_server() as server, pytest.raises(ReplayError, match="is 'other' served there"):
        replay_traffic(server.url, "other", rows=20)
