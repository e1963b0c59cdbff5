"""Decode inference requests into feature columns and encode responses.

Two request shapes reach a model: the Open Inference Protocol v2 body
(``{"inputs": [{"name", "shape", "datatype", "data"}]}``) and KServe v1
records (``{"instances": [{feature: value}, ...]}``). Both are checked
against the model's input schema; a mistake becomes a :class:`RequestError`
naming the offending field, answered with HTTP 422 (400 for bad JSON).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import orjson

from mlops_gitops.contract import MISSING_CATEGORY
from mlops_gitops.serving.model import (
    NUMERIC_TYPES,
    ModelSchema,
    Rows,
    ServedInput,
    VersionSession,
    v2_datatype,
)
from mlops_gitops.tasks import Served

Columns = dict[str, np.ndarray]
Decoder = Callable[[Mapping[str, Any], ModelSchema], Rows]
Encoder = Callable[["Scored"], bytes]


@dataclass(frozen=True, kw_only=True)
class Scored:
    """What a model answered for one request."""

    model: VersionSession
    served: Served
    request_id: str


class RequestError(Exception):
    """A request the server refuses: HTTP status, one-line message and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def body(self) -> dict[str, str]:
        """Return the JSON error body (``error`` as in the v2 protocol, plus ``field``)."""
        return {"error": self.message, **({"field": self.field} if self.field else {})}


def parse_json(body: bytes) -> dict[str, Any]:
    """Parse a JSON object body."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise RequestError(422, "the body must be a JSON object", "body")
    return value


class _Unusual(Exception):
    """The fast path met something it does not check; the checked path decides."""


def decode_v2(payload: Mapping[str, Any], schema: ModelSchema) -> Rows:
    """Turn a v2 ``inputs`` list into :class:`Rows` checked against the model's schema."""
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(422, "'inputs' must be a non-empty list of tensors", "inputs")
    try:
        return _fast_v2(inputs, schema)
    except _Unusual:
        columns = _checked_v2(inputs, schema.features)
    return Rows.from_columns(schema, columns)


def _fast_v2(inputs: list[Any], schema: ModelSchema) -> Rows:
    # The common request in one pass: flat data, exact shapes, plain numbers and strings.
    layout = schema.layout
    numeric: list[Any] = [None] * len(schema.numeric_index)
    categorical: dict[str, Any] = {}
    for tensor in inputs:
        try:
            name = tensor["name"]
            data = tensor["data"]
            shape = tensor["shape"]
            slot, allowed = layout[name]
            datatype_ok = tensor["datatype"] in allowed
        except (KeyError, TypeError):
            raise _Unusual from None
        if not datatype_ok or type(data) is not list:
            raise _Unusual
        size = len(data)
        flat, column = _SHAPES[size] if size < _SHAPE_CACHE else ([size], [size, 1])
        if not size or (shape != column and shape != flat):  # noqa: PLR1714 - no list building
            raise _Unusual
        if slot is None:
            if name in categorical or not all(type(v) is str for v in data):
                raise _Unusual
            categorical[name] = data
        elif numeric[slot] is None:
            numeric[slot] = data
        else:
            raise _Unusual
    return _rows(schema, numeric, categorical)


# The accepted shapes of a tensor of n values, built once: [n] and [n, 1].
_SHAPE_CACHE = 65
_SHAPES = [([n], [n, 1]) for n in range(_SHAPE_CACHE)]


def _rows(schema: ModelSchema, numeric: list[Any], categorical: dict[str, Any]) -> Rows:
    if len(categorical) + len(numeric) != len(schema.features) or any(c is None for c in numeric):
        raise _Unusual
    try:
        matrix = np.array(numeric, dtype=None) if numeric else None
    except ValueError:  # ragged: inputs of different lengths
        raise _Unusual from None
    counts = {len(v) for v in categorical.values()}
    if matrix is not None:
        if matrix.ndim != 2 or matrix.dtype.kind not in "iuf":
            raise _Unusual
        counts.add(matrix.shape[1])
    if len(counts) != 1:
        raise _Unusual
    values = (
        matrix.astype(np.float64, copy=False) if matrix is not None else np.empty((0, counts.pop()))
    )
    return Rows(schema, values, {k: np.array(v, dtype=object) for k, v in categorical.items()})


def _checked_v2(inputs: list[Any], features: Sequence[ServedInput]) -> Columns:
    by_name = {f.name: f for f in features}
    columns: Columns = {}
    rows: int | None = None
    for i, tensor in enumerate(inputs):
        where = f"inputs[{i}]"
        feature, data = _tensor_parts(tensor, by_name, where)
        if feature.name in columns:
            raise RequestError(422, f"{where}: input '{feature.name}' is sent twice", where)
        columns[feature.name] = _column(data, feature, f"{where}.data")
        n = columns[feature.name].shape[0]
        if rows is not None and n != rows:
            raise RequestError(422, f"{where}: {n} rows but earlier inputs have {rows}", where)
        rows = n
    missing = [f.name for f in features if f.name not in columns]
    if missing:
        raise RequestError(422, f"inputs: missing input(s) {', '.join(missing)}", "inputs")
    return columns


def _tensor_parts(
    tensor: object, by_name: Mapping[str, ServedInput], where: str
) -> tuple[ServedInput, list[Any]]:
    if not isinstance(tensor, dict):
        raise RequestError(422, f"{where}: expected a tensor object", where)
    name, datatype, shape, data = (tensor.get(k) for k in ("name", "datatype", "shape", "data"))
    feature = by_name.get(name) if isinstance(name, str) else None
    if feature is None:
        raise RequestError(
            422,
            f"{where}.name: unknown input {name!r}; expected one of {sorted(by_name)}",
            f"{where}.name",
        )
    _check_datatype(datatype, feature, f"{where}.datatype")
    if not isinstance(data, list):
        raise RequestError(422, f"{where}.data: expected a list", f"{where}.data")
    if data and isinstance(data[0], list):
        if not all(isinstance(row, list) for row in data):
            raise RequestError(422, f"{where}.data: mixes nested and flat values", f"{where}.data")
        data = list(chain.from_iterable(data))
    _check_shape(shape, len(data), f"{where}.shape")
    return feature, data


def _check_datatype(datatype: object, feature: ServedInput, where: str) -> None:
    ok = datatype == "BYTES" if feature.kind == "categorical" else datatype in NUMERIC_TYPES
    if not ok:
        expected = "BYTES" if feature.kind == "categorical" else "a numeric type such as FP32"
        raise RequestError(
            422, f"{where}: {datatype!r} for '{feature.name}'; expected {expected}", where
        )


def _check_shape(shape: object, size: int, where: str) -> None:
    if not (isinstance(shape, list) and shape and all(type(d) is int and d >= 0 for d in shape)):
        raise RequestError(422, f"{where}: expected a list of non-negative integers", where)
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise RequestError(422, f"{where}: {shape} must be [rows] or [rows, 1]", where)
    if shape[0] != size:
        raise RequestError(422, f"{where}: {shape} does not match {size} data values", where)
    if size == 0:
        raise RequestError(422, f"{where}: at least one row is needed", where)


def decode_records(payload: Mapping[str, Any], schema: ModelSchema) -> Rows:
    """Turn KServe v1 ``instances`` records into :class:`Rows` checked against the schema."""
    rows = payload.get("instances")
    if not isinstance(rows, list) or not rows:
        raise RequestError(422, "'instances' must be a non-empty list of records", "instances")
    try:
        return _fast_records(rows, schema)
    except _Unusual:
        columns = _checked_records(rows, schema.features)
    return Rows.from_columns(schema, columns)


def _fast_records(rows: list[Any], schema: ModelSchema) -> Rows:
    width = len(schema.features)
    if not all(type(row) is dict and len(row) == width for row in rows):
        raise _Unusual
    names = list(schema.numeric_index)
    try:
        table = [[row[name] for name in names] for row in rows]
        categorical = {
            f.name: [row[f.name] for row in rows]
            for f in schema.features
            if f.kind == "categorical"
        }
    except KeyError:
        raise _Unusual from None
    if any(not all(type(v) is str for v in values) for values in categorical.values()):
        raise _Unusual
    numeric: list[Any] = []
    if names:
        try:
            matrix = np.array(table, dtype=None)
        except ValueError:
            raise _Unusual from None
        if matrix.ndim != 2 or matrix.dtype.kind not in "iuf":
            raise _Unusual
        numeric = list(matrix.T)
    return _rows(schema, numeric, categorical)


def _checked_records(rows: list[Any], features: Sequence[ServedInput]) -> Columns:
    names = [f.name for f in features]
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or len(row) != len(names):
            _explain_record(row, names, f"instances[{i}]")
    columns: Columns = {}
    for feature in features:
        try:
            values = [row[feature.name] for row in rows]
        except KeyError:
            bad = next(i for i, row in enumerate(rows) if feature.name not in row)
            where = f"instances[{bad}].{feature.name}"
            raise RequestError(422, f"{where}: missing", where) from None
        columns[feature.name] = _column(values, feature, f"instances[*].{feature.name}")
    return columns


def _explain_record(row: object, names: Sequence[str], where: str) -> None:
    if not isinstance(row, dict):
        raise RequestError(422, f"{where}: expected an object of feature values", where)
    missing = [n for n in names if n not in row]
    if missing:
        raise RequestError(422, f"{where}.{missing[0]}: missing", f"{where}.{missing[0]}")
    extra = sorted(k for k in row if k not in set(names))
    raise RequestError(422, f"{where}.{extra[0]}: not an input of the model", f"{where}.{extra[0]}")


def _column(values: list[Any], feature: ServedInput, where: str) -> np.ndarray:
    if feature.kind == "categorical":
        bad = next((i for i, v in enumerate(values) if v is not None and type(v) is not str), None)
        if bad is not None:
            at = _at(where, bad)
            raise RequestError(
                422, f"{at}: {values[bad]!r} for '{feature.name}'; expected a string or null", at
            )
        # null is the missing category, the empty string in the ONNX contract
        return np.array([MISSING_CATEGORY if v is None else v for v in values], dtype=object)
    array = np.asarray(values) if values else np.empty(0)
    if array.dtype.kind in "iuf" and array.ndim == 1:
        return array.astype(np.float64, copy=False)
    wrong = next((i for i, v in enumerate(values) if not _is_number(v)), None)
    if wrong is not None:
        at = _at(where, wrong)
        raise RequestError(
            422, f"{at}: {values[wrong]!r} for '{feature.name}'; expected a number or null", at
        )
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _is_number(value: object) -> bool:
    return value is None or (type(value) in (int, float))


def _at(where: str, index: int) -> str:
    if "[*]" in where:
        return where.replace("[*]", f"[{index}]")
    return f"{where}[{index}]"


def encode_v2(scored: Scored) -> bytes:
    """Encode a v2 inference response with the task's served tensors."""
    model = scored.model
    served = scored.served
    tensors = []
    for name, value in served.tensors.items():
        tensor: dict[str, object] = {
            "name": name,
            "datatype": v2_datatype(value),
            "shape": list(value.shape),
        }
        if name in served.parameters:
            tensor["parameters"] = served.parameters[name]
        flat = np.ascontiguousarray(value).reshape(-1)
        tensor["data"] = flat.tolist() if value.dtype.kind == "O" else flat
        tensors.append(tensor)
    body = {
        "model_name": model.name,
        "model_version": model.version,
        "id": scored.request_id,
        "outputs": tensors,
    }
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def encode_records(scored: Scored) -> bytes:
    """Encode a KServe v1 style response: one prediction per record, fields as the task says."""
    body = {
        "model_name": scored.model.name,
        "model_version": scored.model.version,
        "id": scored.request_id,
        "predictions": records(scored.served),
    }
    return orjson.dumps(body)


def records(served: Served) -> list[dict[str, Any]]:
    """Return the served fields row by row (NaN becomes null)."""
    columns: list[tuple[str, list[Any]]] = []
    for name, value in served.fields.items():
        if isinstance(value, Mapping):
            nested = [(key, _plain(column)) for key, column in value.items()]
            rows = len(served.predictions)
            columns.append((name, [{k: c[i] for k, c in nested} for i in range(rows)]))
        else:
            columns.append((name, _plain(value)))
    names = [name for name, _ in columns]
    values = zip(*(c for _, c in columns), strict=True)
    return [dict(zip(names, row, strict=True)) for row in values]


def _plain(value: np.ndarray) -> list[Any]:
    items: list[Any] = value.tolist()
    if value.dtype.kind == "f":
        return [None if math.isnan(v) else v for v in items]
    return items
