"""The demo path end to end: a real server, the replayer, a monitoring run, a drift alert.

A small ONNX model of the export contract (numeric float inputs, categorical
string inputs with "" for missing) serves in a real uvicorn server; the
replayer sends the sample's drifted later period with feedback labels; the
monitoring run reads the server's prediction log and delivers the drift alert
to a webhook receiver on 127.0.0.1, signed.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_gitops.monitoring.channels import ChannelContext
from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.receiver import AlertReceiver
from mlops_gitops.monitoring.window import Reference

pytestmark = [
    pytest.mark.slow,
    # skl2onnx writes boolean tree attributes that protobuf 6 warns about (converted correctly).
    pytest.mark.filterwarnings("ignore:Field onnx.AttributeProto.ints:DeprecationWarning"),
]

NUMERIC = ("income", "debt_to_income", "credit_utilization")
CATEGORICAL = ("region", "housing")


def _train_onnx(path: Path) -> str:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from mlops_gitops.data.sample import generate_sample

    frame = generate_sample(800, seed=42)
    x = frame[list(NUMERIC + CATEGORICAL)].copy()
    for name in NUMERIC:
        x[name] = x[name].astype("float32")
    for name in CATEGORICAL:
        x[name] = x[name].fillna("").astype(object)
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    prepare = ColumnTransformer(
        [("num", "passthrough", list(NUMERIC)), ("cat", encoder, list(CATEGORICAL))]
    )
    clf = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    pipe = Pipeline([("prepare", prepare), ("clf", clf)]).fit(x, frame["default"])
    inputs = [(n, FloatTensorType([None, 1])) for n in NUMERIC]
    inputs += [(n, StringTensorType([None, 1])) for n in CATEGORICAL]
    onx = to_onnx(
        pipe, initial_types=inputs, options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )  # fmt: skip
    data = onx.SerializeToString()
    path.write_bytes(data)
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _project(root: Path, hook: str, log: str = "{path: logs/dev}") -> None:
    md5 = _train_onnx(root.parent / "model.onnx")
    cache = root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    cache.parent.mkdir(parents=True)
    (root.parent / "model.onnx").rename(cache)
    (root / "envs").mkdir()
    (root / "envs/environments.yaml").write_text("environments:\n  dev:\n    feeds: []\n")
    (root / "envs/dev.yaml").write_text(
        f"""\
models:
  credit-default:
    version: v1.0.0
    artifact: {{path: models/model.onnx, md5: {md5}}}
serving:
  prediction_log: {log}
monitoring:
  alerts:
    - {{id: data-drift, indicator: drift.share, op: ">=", threshold: 0.3, priority: P2,
       channels: [hook]}}
  channels:
    hook: {{type: webhook, url: "{hook}", secret_env: HOOK_KEY}}
"""
    )


@dataclass
class LiveServer:
    """A real server of the project's dev environment."""

    root: Path
    url: str
    stop: Callable[[], None]


@pytest.fixture
def live_server(tmp_path: Path, receiver: AlertReceiver) -> Iterator[LiveServer]:
    """The project with a real server for its dev environment, stopped after the test."""
    import uvicorn

    from mlops_gitops.serving.app import create_app
    from mlops_gitops.serving.plan import read_plan
    from mlops_gitops.serving.server_state import ServerState

    root = tmp_path / "project"
    root.mkdir()
    _project(root, receiver.url)
    state = ServerState(plan=read_plan(root, "dev"), load_plan=lambda: read_plan(root, "dev"))
    app = create_app(state, watch_interval=None, access_log=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and state.models is not None) and time.monotonic() < deadline:
        time.sleep(0.02)  # polling for start-up with a deadline, not a timed wait
    assert state.models is not None, state.last_reload

    def stop() -> None:  # stopping the server flushes its prediction log
        server.should_exit = True
        thread.join(30)
        sock.close()

    yield LiveServer(root, f"http://127.0.0.1:{sock.getsockname()[1]}", stop)
    stop()


def _reference(root: Path, model: str, version: str, config: MonitoringConfig) -> Reference:
    from mlops_gitops.data.sample import PII_COLUMNS, generate_sample

    frame = generate_sample(2000, seed=42).drop(columns=list(PII_COLUMNS))
    return Reference(
        model=model, version=version, frame=frame, label="default", test_metrics={"accuracy": 0.8}
    )


def test_replayed_drift_is_alerted_to_the_local_webhook(
    live_server: LiveServer, receiver: AlertReceiver
) -> None:
    from mlops_gitops.monitoring.replay import replay_traffic
    from mlops_gitops.monitoring.run import run_monitoring

    result = replay_traffic(live_server.url, "credit-default", rows=600, drift=1.0, batch=100)
    assert (result.requests, result.failed, result.labels) == (6, 0, 600)
    live_server.stop()
    run = run_monitoring(
        "dev", root=live_server.root, resolve=_reference, sleep=lambda _: None,
        context=ChannelContext(environ={"HOOK_KEY": "s3cret"}),
    )  # fmt: skip
    [model] = run.models
    assert model.result.rows == 600
    assert model.indicators["performance.labelled_rows"] == 600
    assert model.result.drift is not None and model.result.drift.dataset_drift
    assert [a.alert.rule for a in run.alerts] == ["data-drift"]
    [got] = receiver.received
    assert got.verified is True and got.body["env"] == "dev" and got.body["priority"] == "P2"
