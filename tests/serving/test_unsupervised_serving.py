"""Clustering and anomaly models served over HTTP: cluster ids with distances, flags with scores.

The k-means model (``load_iris`` without its label) and the isolation
forest (``load_breast_cancer`` with malignant rows cut down to anomalies)
are trained and exported by the real pipeline functions once per module and
served by a real server on 127.0.0.1; answers, the prediction log and
feedback are checked against ONNX Runtime's own outputs.
"""

from __future__ import annotations

import hashlib

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from sklearn import datasets

from tests.helpers.serving import ENVIRONMENTS, BuiltModel, cache_model
from tests.helpers.task_pipeline import run_pipeline

pytestmark = pytest.mark.slow

LABEL = "target"


def _frame(name: str) -> pd.DataFrame:
    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    frame.columns = [str(c).replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
    if name == "breast_cancer":
        malignant = frame[frame[LABEL] == 0].sample(15, random_state=0)
        frame = pd.concat([frame[frame[LABEL] == 1], malignant]).sort_index()
        frame = frame.assign(**{LABEL: (frame[LABEL] == 0).astype("int64")})
    else:
        frame = frame.drop(columns=[LABEL])
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    return frame


def _train(name: str, task: str, folder, **settings) -> tuple[BuiltModel, pd.DataFrame]:
    prepared, *_ = run_pipeline(_frame(name), task, folder, name=name, **settings)
    data = (folder / "model.onnx").read_bytes()
    test = pd.read_parquet(prepared.paths["test"])
    return BuiltModel(folder / "model.onnx", hashlib.md5(data).hexdigest()), test


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return {
        "segments": _train(
            "iris",
            "clustering",
            tmp_path_factory.mktemp("iris"),
            label=None,
            sklearn={"estimator": "kmeans", "n_clusters": 3},
        ),
        "fraud": _train(
            "breast_cancer",
            "anomaly",
            tmp_path_factory.mktemp("cancer"),
            label=LABEL,
            sklearn={"estimator": "isolation_forest", "n_estimators": 50},
        ),
    }


@pytest.fixture
def root(tmp_path, models):
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    lines = ["models:"]
    for name, (model, _) in models.items():
        cache_model(root, model)
        lines += [
            f"  {name}:",
            "    version: v1.0.0",
            f"    artifact: {{path: models/model.onnx, md5: {model.md5}}}",
        ]
    lines += ["serving:", "  prediction_log:", "    path: logs/predictions/dev"]
    (root / "envs" / "environments.yaml").write_text(ENVIRONMENTS)
    (root / "envs" / "dev.yaml").write_text("\n".join(lines) + "\n")
    (root / "envs" / "prod.yaml").write_text("models: {}\n")
    return root


def _inputs(model: BuiltModel, rows: pd.DataFrame):
    session = onnxruntime.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    outputs = session.run(None, {n: rows[[n]].to_numpy(np.float32) for n in names})
    return names, outputs


def _logged(root, name: str) -> pd.DataFrame:
    parts = sorted((root / "logs" / "predictions" / "dev" / name).glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_a_clustering_model_answers_cluster_ids_and_distances_and_refuses_feedback(
    root, models, start_server
):
    model, test = models["segments"]
    rows = test.head(5)
    names, (ids, distances) = _inputs(model, rows)
    server = start_server(root)
    server.wait_ready()
    with server.client() as client:
        records = client.post(
            "/v1/models/segments:predict", json={"instances": rows[names].to_dict("records")}
        ).json()
        meta = client.get("/v2/models/segments").json()
        feedback = client.post(
            "/v2/models/segments/feedback", json={"request_id": "s1", "label": 2}
        )
    own = distances[np.arange(len(ids)), ids]
    assert [p["label"] for p in records["predictions"]] == ids.tolist()
    assert [p["distance"] for p in records["predictions"]] == pytest.approx(own.tolist(), abs=1e-5)
    assert meta["parameters"]["task"] == "clustering"
    assert feedback.status_code == 422
    assert "segments feedback: does not apply to a clustering model" in feedback.text
    server.state.predictions.flush()
    logged = _logged(root, "segments")
    assert logged["prediction"].tolist() == ids.tolist()
    assert np.allclose(logged["score"], own, atol=1e-5)


def test_an_anomaly_model_answers_flags_and_scores_and_takes_0_1_feedback(
    root, models, start_server
):
    model, test = models["fraud"]
    rows = pd.concat([test[test[LABEL] == 1].head(2), test[test[LABEL] == 0].head(3)])
    names, (flags, scores) = _inputs(model, rows)
    server = start_server(root)
    server.wait_ready()
    with server.client() as client:
        records = client.post(
            "/v1/models/fraud:predict", json={"instances": rows[names].to_dict("records")}
        ).json()
        good = client.post("/v2/models/fraud/feedback", json={"request_id": "f1", "label": 1})
        bad = client.post("/v2/models/fraud/feedback", json={"request_id": "f2", "label": 3})
    assert [p["label"] for p in records["predictions"]] == flags.tolist()
    assert [p["score"] for p in records["predictions"]] == pytest.approx(
        scores.reshape(-1).tolist(), abs=1e-5
    )
    assert set(flags.tolist()) <= {0, 1} and ((scores.reshape(-1) > 0) == (flags == 1)).all()
    assert good.status_code == 200, good.text
    assert bad.status_code == 422 and "(task anomaly)" in bad.text
    server.state.predictions.flush()
    logged = _logged(root, "fraud")
    assert logged["prediction"].dtype == "int64" and logged["score"].dtype == "float64"
