"""The model contract: what training writes into a model, and every consumer reads back.

An exported model (``models/model.onnx``) takes one ``[N, 1]`` input per raw
feature column, named as the column: numeric ``tensor(float)`` (or
``tensor(double)``), NaN when missing; categorical ``tensor(string)``,
:data:`MISSING_CATEGORY` when missing. A column name follows
:data:`FEATURE_NAME` (training refuses any other: :func:`check_feature_name`).
Its outputs are its task's (``Task.outputs``). Its ``metadata_props`` carry
the model name, family, task, class names, the features with their
categories, the label and the decision threshold. Training writes the
contract (``training.onnx_export``); serving, batch scoring, monitoring and
explanations read it with :func:`read_contract` instead of guessing the
model's shape, and open the graph with :func:`open_session`. A feature with
what one consumer adds to it is a :class:`FeatureFacts`.

Importing this module imports neither numpy nor ONNX Runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from mlops_gitops.errors import MlopsError

if TYPE_CHECKING:
    import onnxruntime

    from mlops_gitops.tasks import Task

# The missing value of a categorical feature, everywhere: in the framework
# model, in the ONNX graph and for serving clients (numeric: NaN).
MISSING_CATEGORY = ""
FeatureKind = Literal["numeric", "categorical"]
# ONNX element types the contract allows for a raw feature column.
ONNX_KINDS: dict[str, FeatureKind] = {
    "tensor(float)": "numeric",
    "tensor(double)": "numeric",
    "tensor(string)": "categorical",
}
# The ONNX element type training gives each kind of feature.
ONNX_TYPES: dict[FeatureKind, str] = {"numeric": "tensor(float)", "categorical": "tensor(string)"}
# A feature's column name is its ONNX input's name, so it must survive the
# converters: skl2onnx rewrites a name that is not a C-style identifier (a '/',
# '(' or space becomes '_'), and the graph would no longer take one input named
# as each column.
FEATURE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FEATURE_NAME_RULE = "a feature name holds letters, digits and '_' only and starts with no digit"


class ContractError(MlopsError):
    """A model file breaks the contract: not ONNX, wrong inputs, unreadable metadata."""


class Feature(BaseModel):
    """One raw input column of a model: its name, kind and (categorical) known categories."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: FeatureKind
    categories: list[str] | None = None


def check_feature_name(name: str, *, where: str, error: type[MlopsError] = ContractError) -> None:
    """Raise when column ``name`` cannot be a model input (see :data:`FEATURE_NAME`).

    Raises:
        error: one line naming ``where`` (the data file), the column and the rule.
    """
    if not FEATURE_NAME.fullmatch(name):
        raise error(
            f"{where}: column {name!r} cannot be a model input: {FEATURE_NAME_RULE}; rename it "
            "in the data (or in prepare) or add it to model.features.exclude"
        )


class FeatureFacts(BaseModel):
    """A contract :class:`Feature` and what one consumer knows about it besides.

    Explanations add feasible ranges, monitoring the reference statistics;
    what the feature *is* (name, kind, categories) stays the contract's.
    A flat mapping (``name``, ``kind``, ``categories`` beside the consumer's
    own fields, as files written before the contract held features read) is
    taken as well as a nested ``feature``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: Feature

    @model_validator(mode="before")
    @classmethod
    def _nest_feature(cls, data: object) -> object:
        if not isinstance(data, Mapping) or "feature" in data:
            return data
        flat = dict(data)
        categories = flat.pop("categories", None)
        nested = {key: flat.pop(key) for key in ("name", "kind") if key in flat}
        nested["categories"] = categories or None
        return {**flat, "feature": nested}

    @property
    def name(self) -> str:
        """Return the feature's column name."""
        return self.feature.name

    @property
    def kind(self) -> FeatureKind:
        """Return the feature's kind."""
        return self.feature.kind

    @property
    def categories(self) -> tuple[str, ...]:
        """Return the feature's known categories (empty when none are recorded)."""
        return tuple(self.feature.categories or ())


@dataclass(frozen=True, kw_only=True)
class ModelContract:
    """What a model's graph and metadata say about it."""

    task: str
    # Class names in code order (classification); empty otherwise.
    classes: tuple[str, ...]
    # The features in graph input order, categories from the metadata where recorded.
    features: tuple[Feature, ...]
    # Input name -> ONNX element type, in graph order.
    input_types: Mapping[str, str]
    outputs: tuple[str, ...]
    label: str
    family: str
    model_name: str
    # The binary decision threshold recorded at export (None: not recorded).
    threshold: float | None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the feature names in input order."""
        return tuple(f.name for f in self.features)

    @property
    def kinds(self) -> dict[str, FeatureKind]:
        """Return each feature's kind, by name."""
        return {f.name: f.kind for f in self.features}

    @property
    def categories(self) -> dict[str, list[str]]:
        """Return the recorded categories of each categorical feature that has them."""
        return {f.name: list(f.categories) for f in self.features if f.categories is not None}

    def load_task(self) -> Task:
        """Return the model's task (see :mod:`mlops_gitops.tasks`)."""
        from mlops_gitops.tasks import load_task

        return load_task(self.task, where="the model's metadata 'task'")


def open_session(
    path: str | Path,
    *,
    what: str | None = None,
    error: type[MlopsError] = ContractError,
    threads: int = 0,
) -> onnxruntime.InferenceSession:
    """Open ``path`` in ONNX Runtime on the CPU (``threads`` intra-op threads; 0: its default).

    Raises:
        error: the file is missing or is not a loadable ONNX model (one line,
            naming ``what``, the model, when given).
    """
    import onnxruntime

    source = Path(path)
    where = f"{what}: {source}" if what else str(source)
    if not source.is_file():
        raise error(f"{where}: model not found; run 'dvc pull' or 'dvc repro' first")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Worker threads sleep instead of spinning between runs: on a shared or
        # oversubscribed machine spinning threads steal the cores the run needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(
            str(source), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own untyped errors: wrap them where they enter
        raise error(f"{where}: not a loadable ONNX model") from exc


def read_contract(
    session: onnxruntime.InferenceSession, *, what: str, error: type[MlopsError] = ContractError
) -> ModelContract:
    """Read the contract of an open model: its inputs, outputs and metadata.

    A model exported before tasks were recorded reads as ``binary``.

    Raises:
        error: an input is not a float or string column, or the metadata is not readable.
    """
    from mlops_gitops.tasks import DEFAULT_TASK

    types: dict[str, str] = {}
    for node in session.get_inputs():
        if node.type not in ONNX_KINDS:
            raise error(
                f"{what}: input '{node.name}' has type {node.type}; expected tensor(float), "
                "tensor(double) or tensor(string), one input per raw feature column"
            )
        types[node.name] = node.type
    meta = dict(session.get_modelmeta().custom_metadata_map)
    recorded = {f.name: f for f in _recorded_features(meta, what=what, error=error)}
    features = tuple(
        recorded.get(name) or Feature(name=name, kind=ONNX_KINDS[kind])
        for name, kind in types.items()
    )
    return ModelContract(
        task=meta.get("task") or DEFAULT_TASK,
        classes=tuple(str(c) for c in _json_list(meta, "classes", what=what, error=error)),
        features=features,
        input_types=types,
        outputs=tuple(o.name for o in session.get_outputs()),
        label=meta.get("label", ""),
        family=meta.get("family", "unknown"),
        model_name=meta.get("model_name", ""),
        threshold=_threshold(meta, what=what, error=error),
        metadata=meta,
    )


def _recorded_features(
    meta: Mapping[str, str], *, what: str, error: type[MlopsError]
) -> list[Feature]:
    """Return the features the metadata records with their kinds (a bare name records none)."""
    items = _json_list(meta, "features", what=what, error=error)
    try:
        return [Feature.model_validate(item) for item in items if not isinstance(item, str)]
    except ValidationError as exc:
        raise error(f"{what}: the metadata 'features' do not follow the contract") from exc


def _json_list(
    meta: Mapping[str, str], key: str, *, what: str, error: type[MlopsError]
) -> list[object]:
    try:
        value = json.loads(meta.get(key) or "[]")
    except ValueError as exc:
        raise error(f"{what}: the metadata '{key}' is not JSON") from exc
    if not isinstance(value, list):
        raise error(f"{what}: the metadata '{key}' is not a list")
    return value


def _threshold(meta: Mapping[str, str], *, what: str, error: type[MlopsError]) -> float | None:
    raw = meta.get("threshold")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise error(f"{what}: the metadata 'threshold' is not a number: {raw!r}") from exc
