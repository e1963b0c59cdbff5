"""One estimator of the catalogue: its row, and the base of its ``model.sklearn`` model.

A row (:class:`Estimator`) is what :mod:`mlops_gitops.training.catalogue`
lists; its params model (:class:`EstimatorParams`) validates the keys and
builds, fits and (optionally) logs the curves of the estimator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from dvclive.live import Live
    from sklearn.base import BaseEstimator

# What feeds the estimator: numbers as they are (trees that route NaN), numbers
# imputed (trees whose ONNX converter drops the missing-value route), or imputed
# and standardised (linear models); text is one-hot encoded in every case.
Preprocessor = Literal["tree", "imputed", "scaled"]
# A preprocessed matrix and its encoded labels.
Fitting = tuple[object, object]


class CurveLog(NamedTuple):
    """What an estimator's per-iteration curves add to the dvclive summary."""

    summary: dict[str, int | float]
    loss: str  # the metric the curves follow, also kept in the valid summary


class EstimatorParams(BaseModel):
    """``model.sklearn`` for one estimator: its keys, and how to build and fit it."""

    model_config = ConfigDict(extra="forbid")

    estimator: str

    def build(self, task: str, seed: int) -> BaseEstimator:
        """Return the unfitted estimator for ``task``."""
        raise NotImplementedError

    def fit(self, estimator: BaseEstimator, train: Fitting, valid: Fitting) -> None:
        """Fit ``estimator`` on the preprocessed train set (the valid one may stop it early)."""
        estimator.fit(*train)

    def curves(self, estimator: BaseEstimator, live: Live) -> CurveLog | None:
        """Log per-iteration curves to ``live``; None when the estimator records none."""
        return None


@dataclass(frozen=True, kw_only=True)
class Estimator:
    """One row of the catalogue: the tasks, the params model, the preprocessor, the converter."""

    tasks: tuple[str, ...]
    params: type[EstimatorParams]
    preprocessor: Preprocessor = "tree"
    # Modules the estimator needs beyond scikit-learn, and the pip packages that bring them.
    requires: tuple[str, ...] = ()
    install: str = ""
    # Registers the skl2onnx converter of a class scikit-learn does not ship.
    register: Callable[[], None] | None = field(default=None)
