"""Prepared splits that follow the data contract, written as Parquet files.

Columns: ``customer_id`` (string id), hashed PII strings, the sensitive
``sex`` and ``age_band``, numeric float64 features with NaN, categorical
string features with missing values (None), and the 0/1 label ``default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LABEL = "default"
ID_COLUMN = "customer_id"
PII = ["full_name", "email"]
NUMERIC = ["income", "loan_amount", "debt_to_income", "credit_utilization", "late_payments"]
CATEGORICAL = ["housing", "loan_purpose", "region"]


def credit_frame(rows: int, seed: int) -> pd.DataFrame:
    """Return a small synthetic credit frame with missing values in every feature kind."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {ID_COLUMN: [f"C{seed:02d}{i:06d}" for i in range(rows)]}
    data["full_name"] = [f"h{rng.integers(1 << 30):x}" for _ in range(rows)]
    data["email"] = [f"h{rng.integers(1 << 30):x}" for _ in range(rows)]
    data["sex"] = rng.choice(["F", "M"], rows)
    data["age_band"] = rng.choice(["18-25", "26-40", "41-65", "65+"], rows)
    for name in NUMERIC:
        values = rng.lognormal(0.0, 0.6, rows)
        values[rng.random(rows) < 0.08] = np.nan
        data[name] = values
    for name, choices in zip(
        CATEGORICAL,
        (["own", "rent", "mortgage"], ["car", "home", "debt", "other"], ["north", "south"]),
        strict=True,
    ):
        values = rng.choice(np.array(choices, dtype=object), rows)
        values[rng.random(rows) < 0.1] = None
        data[name] = values
    frame = pd.DataFrame(data)
    risk = (
        np.nan_to_num(frame["debt_to_income"].to_numpy(), nan=1.0)
        + 0.8 * np.nan_to_num(frame["late_payments"].to_numpy(), nan=1.0)
        + 0.6 * (frame["housing"] == "rent").to_numpy()
        - 0.5 * (frame["age_band"] == "41-65").to_numpy()
    )
    frame[LABEL] = (rng.random(rows) < 1 / (1 + np.exp(-(risk - 2.0) * 2))).astype(np.int64)
    return frame


@dataclass(frozen=True)
class Split:
    """Paths of a prepared split."""

    train: Path
    valid: Path
    test: Path


def write_split(folder: Path, *, rows: int = 400, seed: int = 7) -> Split:
    """Write train/valid/test Parquet files (70/15/15) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = credit_frame(rows, seed)
    cut1, cut2 = int(rows * 0.7), int(rows * 0.85)
    split = Split(folder / "train.parquet", folder / "valid.parquet", folder / "test.parquet")
    frame.iloc[:cut1].to_parquet(split.train, index=False)
    frame.iloc[cut1:cut2].to_parquet(split.valid, index=False)
    frame.iloc[cut2:].to_parquet(split.test, index=False)
    return split


def model_settings(family: str, **overrides: object) -> dict[str, object]:
    """Return a ``model`` params section that trains in about a second."""
    return {
        "name": "credit-default",
        "family": family,
        "seed": 3,
        "features": {"exclude": ["sex"]},
        "sklearn": {"max_iter": 15, "early_stopping": True},
        "lightning": {"hidden": [16], "max_epochs": 2, "batch_size": 64, "accelerator": "cpu"},
        **overrides,
    }
