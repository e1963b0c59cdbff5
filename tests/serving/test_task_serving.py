"""Every served path follows the model's task: multiclass, regression, and binary's threshold.

The multiclass model (``load_wine``, class names as strings) and the
regression model (``load_diabetes``) are trained and exported by the real
pipeline functions once per module, then served by a real server on
127.0.0.1: v2 and records inference, metadata, the prediction log, feedback
and batch scoring are checked against ONNX Runtime's own outputs.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pandas as pd
import pytest
from sklearn import datasets

from mlops_gitops.data import prepare_dataset
from mlops_gitops.serving.batch import predict_with
from mlops_gitops.serving.model import open_version_session
from tests.helpers.serving import ENVIRONMENTS, BuiltModel, _build, cache_model

pytestmark = pytest.mark.slow

LABEL = "target"
WINE = ["barolo", "grignolino", "barbera"]


def _raw(name: str) -> pd.DataFrame:
    loaded = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = loaded.frame.rename(columns=lambda c: str(c).replace("/", "_"))
    if name == "wine":  # class names, not codes: the label a user would have
        frame[LABEL] = np.asarray(WINE)[frame[LABEL].to_numpy()]
    frame.insert(0, "row_id", [f"R{i:04d}" for i in range(len(frame))])
    return frame


def _train(name: str, task: str, folder) -> tuple[BuiltModel, pd.DataFrame]:
    from mlops_gitops.training import export_model, train_model

    raw = folder / "raw.parquet"
    _raw(name).to_parquet(raw, index=False)
    prepared = prepare_dataset(
        raw=raw,
        prepared_dir=folder / "prepared",
        data={"label": LABEL, "id_column": "row_id"},
        prepare={"split": {"seed": 5}},
        task=task,
    )
    paths = prepared.paths
    train_model(
        train=paths["train"],
        valid=paths["valid"],
        trained=folder / "trained",
        live_dir=folder / "dvclive",
        settings={"name": name, "family": "sklearn", "task": task, "sklearn": {"max_iter": 10}},
        label=LABEL,
        id_column="row_id",
    )
    export_model(
        trained=folder / "trained",
        test=paths["test"],
        model=folder / "model.onnx",
        metrics=folder / "export.json",
        settings={"opset": 18, "tolerance": 1e-4},
    )
    data = (folder / "model.onnx").read_bytes()
    built = BuiltModel(folder / "model.onnx", hashlib.md5(data).hexdigest())
    return built, pd.read_parquet(paths["test"])


@pytest.fixture(scope="module")
def task_models(tmp_path_factory):
    """The wine (multiclass) and diabetes (regression) models with their test sets."""
    return {
        "wine": _train("wine", "multiclass", tmp_path_factory.mktemp("wine")),
        "diabetes": _train("diabetes", "regression", tmp_path_factory.mktemp("diabetes")),
    }


@pytest.fixture
def task_root(tmp_path, task_models):
    """A project serving 'wine' and 'diabetes' in dev, with the prediction log on."""
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    lines = ["models:"]
    for name, (model, _) in task_models.items():
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


def _features(model: BuiltModel) -> list[str]:
    return [i.name for i in onnx.load(model.path).graph.input]


def _v2(frame: pd.DataFrame, names: list[str]) -> dict[str, object]:
    return {
        "inputs": [
            {"name": n, "datatype": "FP64", "shape": [len(frame), 1], "data": frame[n].tolist()}
            for n in names
        ]
    }


def _onnx(model: BuiltModel, frame: pd.DataFrame, names: list[str]) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
    return session.run(None, {n: frame[[n]].to_numpy(np.float32) for n in names})


def _logged(root, name: str) -> pd.DataFrame:
    parts = sorted((root / "logs" / "predictions" / "dev" / name).glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_multiclass_model_answers_class_names_and_logs_probabilities(
    task_root, task_models, start_server
):
    model, test = task_models["wine"]
    names = _features(model)
    rows = test.head(6)
    _, proba = _onnx(model, rows, names)
    expected = [WINE_SORTED[k] for k in proba.argmax(axis=1)]
    server = start_server(task_root)
    server.wait_ready()
    with server.client() as client:
        v2 = client.post("/v2/models/wine/infer", json=_v2(rows, names)).json()
        records = client.post(
            "/v1/models/wine:predict", json={"instances": rows[names].to_dict("records")}
        ).json()
        meta = client.get("/v2/models/wine").json()
        document = client.get("/openapi.json").json()
    label, probabilities = v2["outputs"]
    assert label == {"name": "label", "datatype": "BYTES", "shape": [6], "data": expected}
    assert probabilities["datatype"] == "FP32" and probabilities["shape"] == [6, 3]
    assert probabilities["parameters"] == {"classes": WINE_SORTED}
    assert np.allclose(np.reshape(probabilities["data"], (6, 3)), proba, atol=1e-6)
    first = records["predictions"][0]
    assert [p["label"] for p in records["predictions"]] == expected
    assert first["score"] == pytest.approx(float(proba[0].max()), abs=1e-6)
    assert list(first["probabilities"]) == WINE_SORTED
    assert meta["parameters"]["task"] == "multiclass"
    assert meta["parameters"]["classes"] == WINE_SORTED
    assert [o["datatype"] for o in meta["outputs"]] == ["BYTES", "FP32"]
    assert meta["outputs"][1]["parameters"] == {"classes": WINE_SORTED}
    answer = document["paths"]["/v1/models/{name}:predict"]["post"]["responses"]["200"]
    fields = answer["content"]["application/json"]["schema"]["properties"]["predictions"]
    assert fields["items"]["properties"]["label"] == {"type": "string"}
    server.state.predictions.flush()
    logged = _logged(task_root, "wine")
    proba_columns = [f"proba:{c}" for c in WINE_SORTED]
    assert list(logged.columns)[-5:] == ["prediction", "score", *proba_columns]
    assert logged["prediction"].tolist() == expected * 2
    assert all(logged[c].dtype == "float64" for c in ["score", *proba_columns])
    assert logged["prediction"].map(type).eq(str).all()
    assert np.allclose(logged[proba_columns].to_numpy()[:6], proba, atol=1e-6)


# Training sorts the class names: the model's code order.
WINE_SORTED = sorted(WINE)


def test_regression_model_answers_values_and_logs_them_as_the_score(
    task_root, task_models, start_server
):
    model, test = task_models["diabetes"]
    names = _features(model)
    rows = test.head(4)
    (values,) = _onnx(model, rows, names)
    server = start_server(task_root)
    server.wait_ready()
    with server.client() as client:
        v2 = client.post("/v2/models/diabetes/infer", json=_v2(rows, names)).json()
        records = client.post(
            "/v1/models/diabetes:predict", json={"instances": rows[names].to_dict("records")}
        ).json()
        meta = client.get("/v2/models/diabetes").json()
    (output,) = v2["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("prediction", "FP32", [4, 1])
    assert np.allclose(output["data"], values.reshape(-1), atol=1e-4)
    assert [set(p) for p in records["predictions"]] == [{"prediction"}] * 4
    assert [p["prediction"] for p in records["predictions"]] == pytest.approx(
        values.reshape(-1).tolist(), abs=1e-3
    )
    assert meta["parameters"]["task"] == "regression" and meta["parameters"]["classes"] == []
    assert meta["outputs"] == [{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}]
    server.state.predictions.flush()
    logged = _logged(task_root, "diabetes")
    assert list(logged.columns)[-2:] == ["prediction", "score"]
    assert logged["prediction"].dtype == "float64" and logged["score"].dtype == "float64"
    assert logged["prediction"].tolist() == logged["score"].tolist()
    assert np.allclose(logged["prediction"][:4], values.reshape(-1), atol=1e-4)


def test_feedback_takes_each_tasks_labels_and_refuses_the_rest(task_root, start_server):
    server = start_server(task_root)
    server.wait_ready()
    with server.client() as client:
        named = client.post(
            "/v2/models/wine/feedback", json={"request_id": "w1", "label": "barbera"}
        )
        unknown = client.post(
            "/v2/models/wine/feedback", json={"request_id": "w2", "label": "merlot"}
        )
        value = client.post(
            "/v2/models/diabetes/feedback",
            json=[{"request_id": "d1", "label": 151}, {"request_id": "d2", "label": 75.5}],
        )
        word = client.post("/v2/models/diabetes/feedback", json={"request_id": "d3", "label": "x"})
    assert named.json() == {"recorded": 1} and value.json() == {"recorded": 2}
    assert unknown.status_code == 422 and unknown.json()["error"] == (
        "wine feedback: label 'label' holds merlot, not among the classes the model was "
        "trained on (barbera, barolo, grignolino) (task multiclass)"
    )
    assert word.status_code == 422 and "must be numeric" in word.json()["error"]
    assert "\n" not in word.json()["error"]
    server.stop()
    folder = task_root / "logs" / "predictions" / "dev"
    read = {
        name: [
            json.loads(line)["label"]
            for f in sorted((folder / name).glob("feedback-*.jsonl"))
            for line in f.read_text().splitlines()
        ]
        for name in ("wine", "diabetes")
    }
    assert read == {"wine": ["barbera"], "diabetes": [151.0, 75.5]}


def test_batch_scoring_writes_each_tasks_columns(task_models, tmp_path):
    for name, (model, test) in task_models.items():
        loaded = open_version_session(model.path, name=name, version="v1", md5=model.md5)
        test.to_parquet(tmp_path / f"{name}.parquet")
        predict_with(loaded, (tmp_path / f"{name}.parquet", tmp_path / f"{name}-out.parquet"))
        out = pd.read_parquet(tmp_path / f"{name}-out.parquet")
        names = _features(model)
        onnx_outputs = _onnx(model, test, names)
        if name == "wine":
            extra = ["prediction", "score", *(f"proba:{c}" for c in WINE_SORTED)]
            assert list(out.columns) == ["row_id", LABEL, *extra]
            assert out["prediction"].tolist() == [
                WINE_SORTED[k] for k in onnx_outputs[1].argmax(axis=1)
            ]
            assert (out["prediction"] == out[LABEL]).mean() > 0.8
        else:
            assert list(out.columns) == ["row_id", LABEL, "prediction", "score"]
            assert out["prediction"].dtype == "float64"
            assert np.allclose(out["prediction"], onnx_outputs[0].reshape(-1), atol=1e-3)


def test_binary_label_is_decided_with_the_recorded_threshold(tmp_path, start_server):
    built = _build(tmp_path / "plain.onnx", seed=1, iterations=5)
    proto = onnx.load(built.path)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "threshold", "0.8"
    path = tmp_path / "strict.onnx"
    path.write_bytes(proto.SerializeToString())
    strict = BuiltModel(path, hashlib.md5(path.read_bytes()).hexdigest())
    rng = np.random.default_rng(3)
    rows = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, 40),
            "income": rng.normal(50, 10, 40),
            "region": rng.choice(["north", "south"], 40),
        }
    )
    loaded = open_version_session(strict.path, name="credit", version="v1", md5=strict.md5)
    labels, proba = _onnx_binary(strict, rows)
    decided = (proba[:, 1] >= 0.8).astype(int)
    assert (decided != labels).any()  # the arg-max would answer differently on some rows
    root = tmp_path / "project"
    (root / "envs").mkdir(parents=True)
    cache_model(root, strict)
    (root / "envs" / "environments.yaml").write_text(ENVIRONMENTS)
    (root / "envs" / "dev.yaml").write_text(
        "models:\n  credit:\n    version: v1.0.0\n"
        f"    artifact: {{path: models/model.onnx, md5: {strict.md5}}}\n"
    )
    (root / "envs" / "prod.yaml").write_text("models: {}\n")
    server = start_server(root)
    server.wait_ready()
    with server.client() as client:
        records = client.post(
            "/v1/models/credit:predict", json={"instances": rows.to_dict("records")}
        ).json()
        body = {"inputs": [*_v2(rows, ["age", "income"])["inputs"], _bytes(rows)]}
        v2 = client.post("/v2/models/credit/infer", json=body).json()
    assert [p["label"] for p in records["predictions"]] == decided.tolist()
    assert v2["outputs"][0]["data"] == decided.tolist()
    rows.to_parquet(tmp_path / "in.parquet")
    predict_with(loaded, (tmp_path / "in.parquet", tmp_path / "out.parquet"))
    assert pd.read_parquet(tmp_path / "out.parquet")["prediction"].tolist() == decided.tolist()


def _bytes(rows: pd.DataFrame) -> dict[str, object]:
    return {
        "name": "region",
        "datatype": "BYTES",
        "shape": [len(rows), 1],
        "data": rows["region"].tolist(),
    }


def _onnx_binary(model: BuiltModel, rows: pd.DataFrame) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model.path), providers=["CPUExecutionProvider"])
    feeds = {
        "age": rows[["age"]].to_numpy(np.float32),
        "income": rows[["income"]].to_numpy(np.float32),
        "region": rows[["region"]].to_numpy(object),
    }
    return session.run(None, feeds)


def test_edge_check_measures_each_tasks_metrics(task_models, tmp_path):
    import shutil

    from mlops_gitops.serving import edge

    expected = {"wine": {"accuracy", "f1_macro", "log_loss"}, "diabetes": {"rmse", "mae", "r2"}}
    for name, (model, test) in task_models.items():
        folder = tmp_path / name
        folder.mkdir()
        shutil.copyfile(model.path, folder / "model.onnx")
        edge.quantize(folder / "model.onnx", folder / "model.int8.onnx")
        test.to_parquet(folder / "test.parquet")
        checked = edge._evaluate(folder, (name, "v1"), folder / "test.parquet", LABEL)
        assert set(checked["fp32"]) >= expected[name] and set(checked["delta"]) >= expected[name]
        if name == "wine":
            assert checked["fp32"]["accuracy"] > 0.8
        else:
            assert checked["fp32"]["r2"] > 0
