"""The trained-model folder (``models/trained/``): the family's files plus ``meta.json``.

``meta.json`` is the contract later stages, the registry and serving read:
the family, the task and its class names, the features with their kinds
and categories, the label, the positive class, the decision threshold, the
token for a missing category, the params and the hash of the training data. The folder is
written beside its destination and moved into place, so a failed run never
leaves half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from mlops_gitops.contract import MISSING_CATEGORY, Feature
from mlops_gitops.documents import read_json, validate
from mlops_gitops.outputs import write_json
from mlops_gitops.tasks import DEFAULT_TASK
from mlops_gitops.training.families import (
    EmbeddingModel,
    FittedModel,
    TrainingError,
    load_family,
)
from mlops_gitops.training.features import feature_frame

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

META_FILE = "meta.json"


class ModelMeta(BaseModel):
    """The content of ``meta.json``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    family: str
    task: str = DEFAULT_TASK
    # The class names in code order (classification); absent for regression.
    classes: list[str] | None = None
    features: list[Feature]
    # None: trained without a label (an unsupervised task on data that has none).
    label: str | None = None
    positive_class: Literal[1] = 1
    # The binary decision threshold and, when evaluate.threshold was auto, the
    # criterion that chose it on the validation split (absent for other tasks).
    threshold: float | None = None
    threshold_criterion: str | None = None
    missing_category: str = MISSING_CATEGORY
    seed: int
    params: dict[str, JsonValue]
    rows: dict[str, int]
    train_data_md5: str | None = None

    def feature_names(self) -> list[str]:
        """Return the feature names in input order."""
        return [f.name for f in self.features]


@dataclass(frozen=True)
class TrainedModel:
    """A trained model read back from its folder, ready to predict on raw frames."""

    meta: ModelMeta
    model: FittedModel

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the model's scores (see ``FittedModel.predict``) for a frame of raw columns."""
        return self.model.predict(feature_frame(frame, self.meta.features))

    def embed(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the rows in the model's own feature space (see ``EmbeddingModel``).

        Raises:
            TrainingError: the model has no such space.
        """
        if not isinstance(self.model, EmbeddingModel):
            raise TrainingError(
                f"the {self.meta.family} {self.meta.task} model has no feature space to measure in"
            )
        return self.model.embed(feature_frame(frame, self.meta.features))

    def predict_proba(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return the class probabilities ``[N, K]`` of a classification model."""
        return self.predict(frame)


def save_model(folder: Path, model: FittedModel, meta: ModelMeta) -> Path:
    """Write ``model`` and ``meta.json`` to ``folder``, replacing what was there."""

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save(staging)
        write_json(staging / META_FILE, meta.model_dump(mode="json", exclude_none=True))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def read_meta(folder: str | os.PathLike[str]) -> ModelMeta:
    """Read ``FOLDER/meta.json``.

    Raises:
        TrainingError: the file is missing or does not follow the contract.
    """
    path = Path(folder) / META_FILE
    missing = "not found; run the train stage first (dvc repro)"
    data = read_json(path, error=TrainingError, missing=missing)
    return validate(ModelMeta, data, str(path), error=TrainingError)


def load_trained_model(folder: str | os.PathLike[str]) -> TrainedModel:
    """Load the trained model in ``folder`` with the family named in its ``meta.json``."""
    meta = read_meta(folder)
    family = load_family(meta.family)
    model = family.load(Path(folder), tuple(meta.features))
    return TrainedModel(meta=meta, model=model)
