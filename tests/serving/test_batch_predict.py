"""Batch prediction: chunked, complete or nothing, with one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_gitops.errors import DataError
from mlops_gitops.serving.batch import predict_with
from mlops_gitops.serving.model import open_version_session

pytestmark = pytest.mark.slow


@pytest.fixture
def credit(onnx_models):
    v1 = onnx_models["v1"]
    return open_version_session(v1.path, name="credit", version="v1.0.0", md5=v1.md5, threads=1)


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0 + i % 60 for i in range(rows)],
            "income": 50.0,
            "region": ["north", "east"] * (rows // 2),
            "label": [0, 1] * (rows // 2),
        }
    )


def test_parquet_to_csv_keeps_every_column_when_asked(credit, tmp_path):
    _frame(300).to_parquet(tmp_path / "in.parquet")
    seen = []
    report = predict_with(
        credit,
        (tmp_path / "in.parquet", tmp_path / "out.csv"),
        chunk_rows=128,
        output_columns="all",
        on_progress=lambda done, total: seen.append((done, total)),
    )
    out = pd.read_csv(tmp_path / "out.csv")
    assert report.rows == 300 and report.chunks == 3 and seen[-1] == (300, 300)
    assert list(out.columns) == ["age", "income", "region", "label", "prediction", "score"]
    assert out["score"].between(0, 1).all()


def test_missing_categories_are_scored_as_the_empty_category(credit, tmp_path):
    frame = _frame(4)
    frame.loc[2, "region"] = None
    frame.to_parquet(tmp_path / "in.parquet")
    predict_with(credit, (tmp_path / "in.parquet", tmp_path / "out.parquet"))
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 4


def test_failed_run_leaves_no_output(credit, tmp_path):
    frame = _frame(4).assign(income="lots")
    frame.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(DataError, match="column 'income'"):
        predict_with(credit, (tmp_path / "in.parquet", tmp_path / "out.parquet"))
    assert not (tmp_path / "out.parquet").exists()


def test_unreadable_inputs_are_one_line_errors(credit, tmp_path):
    (tmp_path / "in.txt").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        predict_with(credit, (tmp_path / "in.txt", tmp_path / "out.csv"))
    (tmp_path / "in.csv").write_text("age,income,region\n1,2\n")
    with pytest.raises(DataError, match="cannot read it as csv"):
        predict_with(credit, (tmp_path / "in.csv", tmp_path / "out.csv"))
    (tmp_path / "text.csv").write_text("age,income,region\nold,2,north\n")
    with pytest.raises(DataError, match=r"text\.csv"):
        predict_with(credit, (tmp_path / "text.csv", tmp_path / "out.csv"))
    with pytest.raises(DataError, match="cannot read"):
        predict_with(credit, (tmp_path / "missing.parquet", tmp_path / "out.csv"))
