"""Model families: the plug-in point of training.

A family fits a model on prepared frames, loads it back from
``models/trained/`` and exports it to ONNX. Built-in families are
``sklearn`` and ``lightning``; others register under the entry-point group
``mlops_gitops.model_families`` (``name = "package.module:FamilyClass"``).
A family module is imported only when it is used, so choosing ``sklearn``
never imports torch or Lightning.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlops_gitops.errors import ConfigError, MlopsError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd

    from mlops_gitops.training.features import Feature

ENTRY_POINT_GROUP = "mlops_gitops.model_families"
BUILTIN_FAMILIES: dict[str, str] = {
    "sklearn": "mlops_gitops.training.sklearn_family:SklearnFamily",
    "lightning": "mlops_gitops.training.lightning_family:LightningFamily",
}


class TrainingError(MlopsError):
    """A model could not be trained, loaded or exported."""


@dataclass(frozen=True)
class TrainingData:
    """The frames a family fits on: feature frames (see ``feature_frame``) and 0/1 labels."""

    train: pd.DataFrame
    train_label: npt.NDArray[np.int64]
    valid: pd.DataFrame
    valid_label: npt.NDArray[np.int64]
    features: tuple[Feature, ...]


@runtime_checkable
class FittedModel(Protocol):
    """A trained model of some family."""

    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return class probabilities ``[N, 2]`` for a feature frame."""

    def save(self, folder: Path) -> None:
        """Write the model's files into ``folder`` (it exists and is empty)."""

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Return one ONNX graph: raw feature inputs, ``label`` and ``probabilities`` outputs."""


@runtime_checkable
class ModelFamily(Protocol):
    """A kind of model the train stage can fit, and later stages can load."""

    def fit(
        self, data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
    ) -> FittedModel | None:
        """Fit on ``data`` with this family's params section, logging curves to ``live_dir``.

        Returns None in the processes of a distributed run that must not save.
        """

    def load(self, folder: Path, features: tuple[Feature, ...]) -> FittedModel:
        """Load a model that ``FittedModel.save`` wrote into ``folder``."""


def list_families() -> dict[str, str]:
    """Return every known family: name -> ``module:attribute``, plug-ins included."""
    found = dict(BUILTIN_FAMILIES)
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.value
    return dict(sorted(found.items()))


def load_family(name: str) -> ModelFamily:
    """Import and return the family called ``name``.

    Raises:
        ConfigError: no family has that name.
        TrainingError: the family's module cannot be imported.
    """
    families = list_families()
    if name not in families:
        known = ", ".join(families)
        raise ConfigError(
            f"params.yaml model.family: '{name}' is not a model family (known: {known}); "
            f"pick one of them or install the plug-in that provides it"
        )
    module_name, _, attr = families[name].partition(":")
    try:
        family_cls = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise TrainingError(
            f"model family '{name}' cannot be imported from {families[name]}; "
            "install the package that provides it (pip install 'mlops-gitops[train]')"
        ) from exc
    except AttributeError as exc:
        raise TrainingError(f"model family '{name}': {families[name]} does not exist") from exc
    family = family_cls()
    if not isinstance(family, ModelFamily):
        raise TrainingError(
            f"model family '{name}': {families[name]} does not implement fit() and load() "
            "of mlops_gitops.training.ModelFamily"
        )
    return family
