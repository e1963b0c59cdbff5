"""Model families: the plug-in point of training.

A family fits a model on prepared frames, loads it back from
``models/trained/`` and exports it to ONNX. Built-in families are
``sklearn`` and ``lightning`` (:data:`BUILTIN_FAMILIES`); others register
under the entry-point group ``mlops_gitops.model_families``
(``name = "package.module:FamilyClass"``), loaded by :mod:`mlops_gitops.plugins`.
A family module is imported only when it is used, so choosing ``sklearn``
never imports torch or Lightning. A family names the tasks it fits in its
``tasks`` attribute; one without it (written before tasks existed) fits
``binary`` only. A family may also check its own params sub-section
against the task (``check_settings``), so that a choice inside the family
that does not fit the task is refused with the other params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlops_gitops.errors import ConfigError, MlopsError
from mlops_gitops.plugins import PluginPoint, instance
from mlops_gitops.tasks import DEFAULT_TASK, Task, load_task

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd

    from mlops_gitops.contract import Feature

ENTRY_POINT_GROUP = "mlops_gitops.model_families"
BUILTIN_FAMILIES: dict[str, str] = {
    "sklearn": "mlops_gitops.training.sklearn_family:SklearnFamily",
    "lightning": "mlops_gitops.training.lightning_family:LightningFamily",
}


class TrainingError(MlopsError):
    """A model could not be trained, loaded or exported."""


@dataclass(frozen=True, kw_only=True)
class TrainingData:
    """The frames a family fits on: feature frames (see ``feature_frame``) and encoded labels.

    Labels are as ``task`` encodes them: class codes (``0..K-1``, the names in
    ``classes``) for classification, float values for regression; an
    unsupervised task's data without a label holds NaN labels (never fitted).
    """

    train: pd.DataFrame
    train_label: npt.NDArray[np.generic]
    valid: pd.DataFrame
    valid_label: npt.NDArray[np.generic]
    features: tuple[Feature, ...]
    task: str = DEFAULT_TASK
    classes: tuple[str, ...] = ()


@runtime_checkable
class FittedModel(Protocol):
    """A trained model of some family."""

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the scores of a feature frame: what the task's last ONNX output holds.

        Class probabilities ``[N, K]`` for classification, values ``[N]`` for regression.
        """

    def save(self, folder: Path) -> None:
        """Write the model's files into ``folder`` (it exists and is empty)."""

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Return one ONNX graph: raw feature inputs, the task's outputs (``Task.outputs``)."""


@runtime_checkable
class EmbeddingModel(Protocol):
    """A fitted model that measures distances in a feature space of its own (clustering)."""

    def embed(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the rows of a feature frame in that space, ``[N, D]``."""


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
    return FAMILIES.names()


def family_tasks(family: ModelFamily) -> tuple[str, ...]:
    """Return the names of the tasks ``family`` fits (``binary`` when it does not say)."""
    return tuple(getattr(family, "tasks", (DEFAULT_TASK,)))


def check_family_task(family_name: str, task_name: str) -> Task:
    """Return the task ``task_name`` after checking the family ``family_name`` fits it.

    Raises:
        ConfigError: the family or the task is unknown.
        ValueError: the family does not fit the task (a params validation error).
    """
    task = load_task(task_name)
    supported = family_tasks(load_family(family_name))
    if task_name not in supported:
        raise ValueError(
            f"the {family_name} family fits {', '.join(supported)}, not {task_name}; "
            "choose one of those or another model.family"
        )
    return task


def check_family_settings(family_name: str, task_name: str, settings: Mapping[str, object]) -> None:
    """Check the family's own params sub-section fits the task, when the family can say.

    Raises:
        ConfigError: one line naming the first invalid ``model.FAMILY.KEY``.
    """
    check = getattr(load_family(family_name), "check_settings", None)
    if check is not None:
        check(settings, task_name)


def load_family(name: str) -> ModelFamily:
    """Import and return the family called ``name``.

    Raises:
        ConfigError: no family has that name, its module cannot be imported, or
            it does not implement :class:`ModelFamily`.
    """
    return FAMILIES.load(name, where="params.yaml model.family")


FAMILIES: PluginPoint[ModelFamily] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="model family",
    protocol=ModelFamily,
    builtins=BUILTIN_FAMILIES,
    error=ConfigError,
    make=instance,
)
