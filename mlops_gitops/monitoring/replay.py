"""Replay a drifted "later period" of the sample, or a file of later rows, to a running server.

The replayer draws ``generate_later_period(rows, seed, drift)`` (or reads
the first ``rows`` rows of a CSV or Parquet file, ``--data``), drops the
PII columns and everything that is not an input of the model (it asks the
server's v2 metadata for the inputs), sends the rows in batches to
``/v1/models/<model>:predict`` with a request id per batch, then posts the
true labels to ``/v2/models/<model>/feedback`` under the row ids the server
logs (``<id>#<i>``, or ``<id>`` for a one-row request). The server's
prediction log then holds a drifted window with labels, ready for
``mlops monitor``.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_gitops.contract import MISSING_CATEGORY
from mlops_gitops.errors import MlopsError

if TYPE_CHECKING:
    import pandas as pd


class ReplayError(MlopsError):
    """The server refused the replayed traffic or could not be reached."""


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    """What the replayer sent and what the server answered."""

    url: str
    model: str
    rows: int
    requests: int
    failed: int
    labels: int
    drift: float | None  # None: the rows came from a file, not the sample
    source: str  # "sample", or the file the rows came from


def _call(
    url: str, body: object | None, *, token: str | None, timeout: float, request_id: str = ""
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if request_id:
        headers["X-Request-Id"] = request_id
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if data is None else "POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode("utf-8", "replace")[:200]}
    except (urllib.error.URLError, OSError) as exc:
        raise ReplayError(
            f"cannot reach the server at {url} ({getattr(exc, 'reason', exc)})"
        ) from exc


def model_inputs(base: str, model: str, *, token: str | None, timeout: float) -> dict[str, bool]:
    """Return the inputs of ``model`` from the server's v2 metadata: name -> is categorical."""
    status, body = _call(f"{base}/v2/models/{model}", None, token=token, timeout=timeout)
    if status != 200 or not isinstance(body, dict):
        raise ReplayError(f"{base}/v2/models/{model} answered {status}: is '{model}' served there?")
    return {
        str(item["name"]): item.get("datatype") == "BYTES"
        or (item.get("parameters") or {}).get("kind") == "categorical"
        for item in body.get("inputs", [])
    }


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _records(frame: pd.DataFrame, categorical: Mapping[str, bool]) -> list[dict[str, object]]:
    # The export contract: a missing category is the empty string, a missing number is null.
    return [
        {
            k: (MISSING_CATEGORY if categorical.get(k) else None) if _is_missing(v) else v
            for k, v in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]


def replay_frame(
    frame: pd.DataFrame,
    labels: Sequence[object] | None,
    *,
    url: str,
    model: str,
    batch: int = 50,
    categorical: Mapping[str, bool] | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, int, list[dict[str, object]]]:
    """Send ``frame`` in batches; return (requests, failed, feedback items for answered rows)."""
    requests = failed = 0
    feedback: list[dict[str, object]] = []
    for start in range(0, len(frame), batch):
        chunk = frame.iloc[start : start + batch]
        rid = f"replay-{start:07d}"
        body = {"id": rid, "instances": _records(chunk, categorical or {})}
        status, _ = _call(
            f"{url}/v1/models/{model}:predict", body, token=token, timeout=timeout, request_id=rid
        )
        requests += 1
        if status != 200:
            failed += 1
            continue
        if labels is None:  # an unlabelled sample (a clustering's) sends no feedback
            continue
        ids = [rid] if len(chunk) == 1 else [f"{rid}#{i}" for i in range(len(chunk))]
        chunk_labels = labels[start : start + len(chunk)]
        feedback += [{"request_id": i, "label": y} for i, y in zip(ids, chunk_labels, strict=True)]
    return requests, failed, feedback


def send_feedback(
    items: Sequence[Mapping[str, object]],
    *,
    url: str,
    model: str,
    token: str | None,
    timeout: float,
) -> int:
    """Post feedback labels in chunks; return how many the server recorded."""
    recorded = 0
    for start in range(0, len(items), 500):
        chunk = list(items[start : start + 500])
        status, body = _call(
            f"{url}/v2/models/{model}/feedback", chunk, token=token, timeout=timeout
        )
        if status != 200:
            raise ReplayError(f"{url}/v2/models/{model}/feedback answered {status}: {body}")
        recorded += int((body or {}).get("recorded", len(chunk)))
    return recorded


def replay_traffic(  # noqa: PLR0913 - one keyword per option of `mlops monitor replay`
    url: str,
    model: str,
    *,
    rows: int = 2000,
    drift: float = 1.0,
    seed: int = 42,
    batch: int = 50,
    kind: str = "credit",
    label: str | None = "default",
    data: str | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> ReplayResult:
    """Send a drifted later period of the sample ``kind`` to the server at ``url``, then its labels.

    ``data`` (a CSV or Parquet path or URL) sends its first ``rows`` rows
    instead of the sample's. ``label`` is the label column (``data.label``):
    its values go back as feedback, as the task holds them; None (a
    clustering) or a file without the column sends none.
    """
    base = url.rstrip("/")
    inputs = model_inputs(base, model, token=token, timeout=timeout)
    frame = later_period(kind, rows, seed, drift) if data is None else _later_rows(data, rows)
    missing = [name for name in inputs if name not in frame.columns]
    if missing:
        where = "the sample does" if data is None else f"{data} does"
        raise ReplayError(f"model '{model}' takes inputs {where} not have: {', '.join(missing)}")
    labels = frame[label].tolist() if label is not None and label in frame.columns else None
    requests, failed, feedback = replay_frame(
        frame[list(inputs)], labels, url=base, model=model, batch=batch, categorical=inputs,
        token=token, timeout=timeout,
    )  # fmt: skip
    if failed == requests:
        raise ReplayError(f"the server at {base} refused every request ({requests}); see its log")
    recorded = send_feedback(feedback, url=base, model=model, token=token, timeout=timeout)
    return ReplayResult(
        url=base,
        model=model,
        rows=len(frame),
        requests=requests,
        failed=failed,
        labels=recorded,
        drift=drift if data is None else None,
        source="sample" if data is None else data,
    )


def _later_rows(data: str, rows: int) -> pd.DataFrame:
    """Return the first ``rows`` rows of the file ``data``, read like ``data.source``."""
    from mlops_gitops.data import read_dataset

    return read_dataset({"source": data}).head(rows).reset_index(drop=True)


def later_period(kind: str, rows: int, seed: int, drift: float) -> pd.DataFrame:
    """Return a later period of the built-in sample ``kind``: new rows, drifted by ``drift``."""
    from mlops_gitops.data import generate_kind
    from mlops_gitops.data.sample import LATER_PERIOD_SEED_OFFSET, generate_later_period

    if kind == "credit":
        return generate_later_period(rows, seed, drift)
    return generate_kind(kind, rows, seed + LATER_PERIOD_SEED_OFFSET, drift)


def replay_for_env(
    url: str,
    *,
    env: str | None = None,
    model: str | None = None,
    root: Path = Path("."),
    **options: Any,
) -> ReplayResult:
    """Replay to ``model``, or to the first model that ``env``'s manifest serves."""
    if model is None:
        if env is None:
            raise ReplayError("give --model, or --env to replay to the environment's first model")
        from mlops_gitops.manifests import read_environment

        served = sorted(read_environment(root, env).models)
        if not served:
            raise ReplayError(f"envs/{env}.yaml serves no model; give --model")
        model = served[0]
    return replay_traffic(url, model, **{**_sample_of(root), **options})


def _sample_of(root: Path) -> dict[str, Any]:
    """Return the sample kind and label column of the project's params (credit's without)."""
    from mlops_gitops.params import PARAMS_FILE, load_params

    if not (root / PARAMS_FILE).is_file():
        return {}
    data = load_params(root).get("data") or {}
    sample = data.get("sample") or {}
    return {"kind": str(sample.get("kind") or "credit"), "label": data.get("label")}
