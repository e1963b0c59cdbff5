"""Feedback labels sent to a served model: the request's shape, then the model's task.

``POST /v2/models/NAME/feedback`` takes one ``{"request_id", "label"}``
object or a list of them; each label is checked and encoded by the model's
task (0/1, a class name, a number), so the feedback log holds the values
monitoring compares with the predictions. A mistake is a
:class:`~mlops_gitops.serving.codec.RequestError` answered with HTTP 422.
"""

from __future__ import annotations

from mlops_gitops.serving.codec import RequestError
from mlops_gitops.serving.model import ModelSchema


def decode_feedback(payload: object) -> list[tuple[str, int | float | str]]:
    """Check feedback (one ``{"request_id", "label"}`` object or a list of them)."""
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise RequestError(422, "expected at least one feedback object", "body")
    labels: list[tuple[str, int | float | str]] = []
    for i, item in enumerate(items):
        where = f"[{i}]" if isinstance(payload, list) else "body"
        if not isinstance(item, dict) or not isinstance(item.get("request_id"), str):
            raise RequestError(
                422, f'{where}: expected {{"request_id": str, "label": value}}', where
            )
        label = item.get("label")
        if not item["request_id"] or isinstance(label, bool):
            raise RequestError(422, f"{where}: request_id and label must be set", where)
        if not isinstance(label, (int, float, str)):
            raise RequestError(
                422, f"{where}.label: expected a number or a string", f"{where}.label"
            )
        labels.append((item["request_id"], label))
    return labels


def check_feedback(
    labels: list[tuple[str, int | float | str]], schema: ModelSchema, *, model: str
) -> list[tuple[str, int | float | str]]:
    """Return the feedback labels as the model's task holds them (0/1, class names, numbers).

    Raises:
        RequestError: 422 naming the model and its task when the task refuses a label.
    """
    import pandas as pd

    from mlops_gitops.errors import DataError

    task = schema.task
    # An optional trait of a task (clustering has none to take).
    if not getattr(task, "takes_feedback", True):
        raise RequestError(422, f"{model} feedback: does not apply to a {task.name} model", "label")
    column = pd.Series([label for _, label in labels], name="label")
    try:
        encoded = task.encode_labels(column, origin=f"{model} feedback", classes=schema.classes)
    except DataError as exc:
        reason = str(exc).split("; ")[0]
        raise RequestError(422, f"{reason} (task {task.name})", "label") from exc
    values = task.decode(encoded.values, encoded.classes or schema.classes)
    return [(rid, value) for (rid, _), value in zip(labels, values, strict=True)]
