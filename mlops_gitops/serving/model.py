"""One served model version: its ONNX Runtime session and input schema.

A model follows the model contract (:mod:`mlops_gitops.contract`): one
input per raw feature column (numeric ``tensor(float)`` or categorical
``tensor(string)``, shape ``[None, 1]``) and its task's outputs, read with
:func:`~mlops_gitops.contract.read_contract`. The artifact's bytes are
hashed before they are loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlops_gitops import contract
from mlops_gitops.contract import FeatureKind, ModelContract
from mlops_gitops.digest import file_md5
from mlops_gitops.errors import ConfigError, MlopsError
from mlops_gitops.tasks import DEFAULT_TASK, DEFAULT_THRESHOLD, Served, Task, load_task

if TYPE_CHECKING:
    import onnxruntime

    from mlops_gitops.serving.validation import InputCheck

_V2_TYPES = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
    "tensor(int64)": "INT64",
    "tensor(int32)": "INT32",
    "tensor(bool)": "BOOL",
}

_NUMPY_TYPES: dict[str, type[np.generic]] = {
    "FP32": np.float32,
    "FP64": np.float64,
    "INT64": np.int64,
    "INT32": np.int32,
    "BOOL": np.bool_,
}

# v2 datatypes a numeric feature accepts (converted to the model's float type).
NUMERIC_TYPES = frozenset(
    {
        "FP16",
        "FP32",
        "FP64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
    }
)


class ServingError(MlopsError):
    """A model cannot be loaded, routed or served."""


@dataclass(frozen=True)
class ServedInput:
    """One model input: a raw feature column."""

    name: str
    kind: FeatureKind
    onnx_type: str

    @property
    def datatype(self) -> str:
        """Return the Open Inference Protocol v2 datatype of the column."""
        return _V2_TYPES[self.onnx_type]


@dataclass(frozen=True)
class TensorSpec:
    """One model output: name, v2 datatype and shape (``-1`` is any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelSchema:
    """The inputs and outputs of a model, read from its ONNX graph."""

    features: tuple[ServedInput, ...]
    outputs: tuple[TensorSpec, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The model contract read from the graph (None for a schema built by hand).
    contract: ModelContract | None = field(default=None, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the feature names in graph order."""
        return tuple(f.name for f in self.features)

    @cached_property
    def datatypes(self) -> dict[str, frozenset[str]]:
        """Return the v2 datatypes each feature accepts."""
        return {
            f.name: (frozenset({"BYTES"}) if f.kind == "categorical" else NUMERIC_TYPES)
            for f in self.features
        }

    @cached_property
    def layout(self) -> dict[str, tuple[int | None, frozenset[str]]]:
        """Return, per feature, its numeric row (None for categorical) and v2 datatypes."""
        index = self.numeric_index
        return {name: (index.get(name), types) for name, types in self.datatypes.items()}

    @cached_property
    def feed_plan(self) -> tuple[tuple[str, int, int], ...]:
        """Return (name, source, row) per input: source 0 categorical, 1 float32, 2 float64."""
        index = self.numeric_index
        return tuple(
            (
                f.name,
                0 if f.kind == "categorical" else 1 if f.onnx_type == "tensor(float)" else 2,
                index.get(f.name, -1),
            )
            for f in self.features
        )

    @cached_property
    def task(self) -> Task:
        """Return the model's task (binary for a schema without a contract)."""
        return self.contract.load_task() if self.contract else load_task(DEFAULT_TASK)

    @cached_property
    def threshold(self) -> float:
        """Return the binary decision threshold recorded at export, else the default."""
        recorded = self.contract.threshold if self.contract else None
        return DEFAULT_THRESHOLD if recorded is None else recorded

    @cached_property
    def classes(self) -> tuple[str, ...]:
        """Return the class names in code order (empty when the model records none)."""
        return self.contract.classes if self.contract else ()

    def serve(self, outputs: Mapping[str, np.ndarray]) -> Served:
        """Decide a batch's outputs with the task (see :class:`~mlops_gitops.tasks.Served`)."""
        return self.task.served(outputs, classes=self.classes, threshold=self.threshold)

    @cached_property
    def served_layout(self) -> Served:
        """Return what zero rows are served as: the response's tensors, fields and columns."""
        empty = {
            o.name: np.zeros(
                (0, *(d if d > 0 else max(len(self.classes), 1) for d in o.shape[1:])),
                dtype=_NUMPY_TYPES.get(o.datatype, np.float32),
            )
            for o in self.outputs
        }
        return self.serve(empty)

    @cached_property
    def numeric_index(self) -> dict[str, int]:
        """Return each numeric feature's row in a :class:`Rows` matrix."""
        numeric = [f.name for f in self.features if f.kind == "numeric"]
        return {name: i for i, name in enumerate(numeric)}


class Rows(Mapping[str, np.ndarray]):
    """Decoded request rows: numeric features as one matrix, categorical ones as arrays.

    Numeric features are stored as a ``(features, rows)`` float64 matrix in
    the schema's order, so feeding ONNX Runtime costs one conversion for
    all of them. As a mapping it gives each feature's column (float64 or
    str) for the prediction log.
    """

    __slots__ = ("_index", "categorical", "count", "numeric", "schema")

    def __init__(
        self,
        schema: ModelSchema,
        numeric: np.ndarray,
        categorical: dict[str, np.ndarray],
    ) -> None:
        self.schema = schema
        self.numeric = numeric
        self.categorical = categorical
        self._index = schema.numeric_index
        self.count = (
            int(numeric.shape[1])
            if numeric.ndim == 2 and numeric.shape[0]
            else (len(next(iter(categorical.values()))) if categorical else 0)
        )

    @classmethod
    def from_columns(cls, schema: ModelSchema, columns: Mapping[str, np.ndarray]) -> Rows:
        """Build rows from one array per feature (all of the same length)."""
        numeric_names = [f.name for f in schema.features if f.kind == "numeric"]
        rows = len(next(iter(columns.values()))) if columns else 0
        if numeric_names:
            numeric = np.stack([np.asarray(columns[n], dtype=np.float64) for n in numeric_names])
        else:
            numeric = np.empty((0, rows))
        categorical = {
            f.name: np.asarray(columns[f.name], dtype=object)
            for f in schema.features
            if f.kind == "categorical"
        }
        return cls(schema, numeric, categorical)

    def __getitem__(self, name: str) -> np.ndarray:
        index = self._index.get(name)
        return self.categorical[name] if index is None else self.numeric[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.schema.names)

    def __len__(self) -> int:
        return len(self._index) + len(self.categorical)


@dataclass(frozen=True, kw_only=True)
class VersionSession:
    """A model version loaded into ONNX Runtime, verified against its pinned hash."""

    name: str
    version: str
    md5: str
    path: Path
    session: onnxruntime.InferenceSession = field(repr=False, compare=False)
    schema: ModelSchema = field(compare=False)
    # The training schema of the version, compiled for requests (None: not validated).
    input_check: InputCheck | None = field(default=None, repr=False, compare=False)

    def infer(self, rows: Rows) -> dict[str, np.ndarray]:
        """Score rows; return every model output by name."""
        numeric = rows.numeric
        width = numeric.shape[0]
        sources = (
            None,
            np.ascontiguousarray(numeric, dtype=np.float32).reshape(width, -1, 1),
            np.ascontiguousarray(numeric).reshape(width, -1, 1),
        )
        categorical = rows.categorical
        feeds = {
            name: (categorical[name].reshape(-1, 1) if source == 0 else sources[source][row])  # type: ignore[index]  # sources 1 and 2 are arrays
            for name, source, row in self.schema.feed_plan
        }
        outputs = self.session.run(None, feeds)
        return dict(zip((o.name for o in self.schema.outputs), outputs, strict=True))


def verify_md5(path: Path, expected: str, *, what: str) -> None:
    """Raise :class:`ServingError` unless ``path``'s bytes hash to ``expected``."""
    actual = file_md5(path)
    if actual != expected:
        raise ServingError(
            f"{what}: {path} has md5 {actual} but the manifest pins {expected}; "
            "refusing to load it (run 'dvc pull' or fix the manifest)"
        )


def open_version_session(
    path: Path, *, name: str, version: str, md5: str, threads: int = 1
) -> VersionSession:
    """Verify ``path`` against ``md5`` and open it in ONNX Runtime.

    Raises:
        ServingError: the hash differs, the file is not ONNX, or it breaks the input contract.
    """
    what = f"{name}@{version}"
    verify_md5(path, md5, what=what)
    session = open_session(path, threads=threads, what=what)
    return VersionSession(
        name=name,
        version=version,
        md5=md5,
        path=path,
        session=session,
        schema=read_schema(session, what=what),
    )


def open_session(path: Path, *, threads: int, what: str) -> onnxruntime.InferenceSession:
    """Open an ONNX Runtime CPU session with ``threads`` intra-op threads."""
    return contract.open_session(path, what=what, error=ServingError, threads=threads)


def read_schema(session: onnxruntime.InferenceSession, *, what: str) -> ModelSchema:
    """Read the feature columns, outputs and contract of a session, checking the contract."""
    model = contract.read_contract(session, what=what, error=ServingError)
    features = [ServedInput(f.name, f.kind, model.input_types[f.name]) for f in model.features]
    outputs = tuple(
        TensorSpec(o.name, _V2_TYPES.get(o.type, o.type), _shape(o.shape))
        for o in session.get_outputs()
    )
    try:
        task = model.load_task()
    except ConfigError as exc:
        raise ServingError(f"{what}: {exc}") from exc
    names = {o.name for o in outputs}
    missing = [o.name for o in task.outputs if o.name not in names]
    if missing:
        raise ServingError(
            f"{what}: the model has no '{missing[0]}' output, which task {task.name} needs; "
            "re-export it with the contract"
        )
    return ModelSchema(tuple(features), outputs, dict(model.metadata), model)


def _shape(dims: list[int | str | None]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) else -1 for d in dims)


def describe(model: VersionSession) -> dict[str, object]:
    """Return the v2 model metadata of a loaded version: inputs, served outputs, task, classes."""
    schema = model.schema
    return {
        "name": model.name,
        "versions": [model.version],
        "platform": "onnxruntime_onnx",
        "inputs": [
            {
                "name": f.name,
                "datatype": f.datatype,
                "shape": [-1, 1],
                "parameters": {"kind": f.kind},
            }
            for f in model.schema.features
        ],
        "outputs": served_outputs(schema),
        "parameters": {
            "md5": model.md5,
            **_safe_meta(schema.metadata),
            "task": schema.task.name,
            "classes": list(schema.classes),
        },
    }


def served_outputs(schema: ModelSchema) -> list[dict[str, object]]:
    """Return the v2 outputs a response carries: name, datatype, shape and parameters."""
    layout = schema.served_layout
    described: list[dict[str, object]] = []
    for name, value in layout.tensors.items():
        entry: dict[str, object] = {
            "name": name,
            "datatype": v2_datatype(value),
            "shape": [-1, *value.shape[1:]],
        }
        if name in layout.parameters:
            entry["parameters"] = dict(layout.parameters[name])
        described.append(entry)
    return described


def v2_datatype(value: np.ndarray) -> str:
    """Return the v2 datatype of a served array (text is BYTES)."""
    return _v2_type_of(value.dtype)


@cache
def _v2_type_of(dtype: np.dtype[Any]) -> str:
    # Cached: numpy computes a dtype's name in Python on every access, on each response.
    if dtype.kind in "OUS":
        return "BYTES"
    return _V2_TYPES.get(f"tensor({_ONNX_NAMES.get(dtype.name, dtype.name)})", "FP64")


_ONNX_NAMES = {"float32": "float", "float64": "double"}


def _safe_meta(meta: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in meta.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out
