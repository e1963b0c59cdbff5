"""Monitoring test data: tiny frames, prediction logs and feedback as the server writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import numpy as np
import pandas as pd

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CITIES = np.array(["north", "south", "east", "west"])


def make_frame(rows: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    """Return features like the sample's: two numeric, one categorical, and a label."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50 + 25 * shift, 10, rows)
    age = rng.integers(20, 70, rows).astype(float)
    weights = [0.4, 0.3, 0.2, 0.1] if shift == 0 else [0.1, 0.2, 0.3, 0.4]
    region = CITIES[rng.choice(4, rows, p=weights)]
    label = (rng.random(rows) < 0.2 + 0.3 * shift).astype(np.int64)
    return pd.DataFrame({"income": income, "age": age, "region": region, "default": label})


def write_log(
    folder: Path, frame: pd.DataFrame, *, start: datetime, version: str = "v1.0.0", step: float = 1
) -> pd.DataFrame:
    """Write ``frame`` as one prediction-log part as the server does; return the logged rows."""
    folder.mkdir(parents=True, exist_ok=True)
    stamps = [start + timedelta(seconds=i * step) for i in range(len(frame))]
    rng = np.random.default_rng(1)
    score = np.clip(rng.random(len(frame)) * 0.5 + 0.4 * frame["default"].to_numpy(), 0, 1)
    logged = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(stamps, utc=True).as_unit("us"),
            "request_id": [f"r{start:%H%M%S}-{i}" for i in range(len(frame))],
            "model": "credit-default",
            "version": version,
            **{c: frame[c] for c in ("income", "age", "region")},
            "prediction": (score >= 0.5).astype(np.int64),
            "score": score,
        }
    )
    logged.to_parquet(folder / f"part-{start:%Y%m%dT%H%M%S}-0.parquet", index=False)
    return logged


def write_feedback(folder: Path, logged: pd.DataFrame, labels: np.ndarray, day: datetime) -> None:
    """Write feedback labels for the logged request ids."""
    lines = [
        f'{{"request_id": "{rid}", "label": {int(label)}, "timestamp": "{day.isoformat()}"}}'
        for rid, label in zip(logged["request_id"], labels, strict=True)
    ]
    (folder / f"feedback-{day:%Y-%m-%d}.jsonl").write_text("\n".join(lines) + "\n")


class SmtpSink:
    """Collects the messages an aiosmtpd server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]  # aiosmtpd Envelope
        return "250 OK"
