"""The heads of the ``lightning`` family: what the network outputs for each task it fits.

``classes`` (binary, multiclass): one logit per class of the task's encoding
(``0..K-1``), trained with cross-entropy; the graph adds the softmax and the
arg-max, so its outputs are ``label`` and ``probabilities``. ``value``
(regression): one output trained with the mean squared error of the label
standardised by its training mean and deviation; the graph undoes that, so
its one output ``prediction`` is in the label's units. :data:`HEADS` maps
each task to its head; the head's name, width and label scale are recorded
in ``network.json``. torch and Lightning are imported only inside methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import lightning as L
    import numpy as np
    import numpy.typing as npt
    import torch
    from torch import nn

    from mlops_gitops.tasks import Task
    from mlops_gitops.training import network as networks
    from mlops_gitops.training.families import TrainingData
    from mlops_gitops.training.network import TabularNetwork

# What network.json records of a head: its name, its width and (value) the label's scale.
HeadSpec = Mapping[str, "str | int | float"]


class Head(Protocol):
    """How the network's outputs become a task's scores, loss and ONNX outputs."""

    name: str
    # The graph's outputs, in order: the task's ONNX contract (``Task.outputs``).
    outputs: tuple[str, ...]

    def spec(self, data: TrainingData) -> dict[str, str | int | float]:
        """Return what ``network.json`` records of the head for ``data``."""

    def targets(self, labels: npt.NDArray[np.generic]) -> torch.Tensor:
        """Return the encoded labels as the loss reads them."""

    def graph(self, network: TabularNetwork, spec: HeadSpec) -> nn.Module:
        """Return the module that predicts and is exported (the task's outputs, in order)."""

    def scores(self, graph: nn.Module, matrix: torch.Tensor) -> torch.Tensor:
        """Return the score output of ``graph`` (``FittedModel.predict``)."""

    def module(
        self, network: TabularNetwork, spec: HeadSpec, task: Task, *, lr: float, weight_decay: float
    ) -> L.LightningModule:
        """Return the LightningModule that trains ``network``."""


class ClassesHead:
    """One logit per class; softmax and arg-max in the graph."""

    name: str = "classes"
    outputs: tuple[str, ...] = ("label", "probabilities")

    def spec(self, data: TrainingData) -> dict[str, str | int | float]:
        """Return the head's name and one output per class (two without class names)."""
        return {"head": self.name, "outputs": len(data.classes) or 2}

    def targets(self, labels: npt.NDArray[np.generic]) -> torch.Tensor:
        """Return the class codes as int64."""
        import torch

        # torch.tensor copies: pandas hands out read-only arrays, torch wants writable ones.
        return torch.tensor(labels)

    def graph(self, network: TabularNetwork, spec: HeadSpec) -> nn.Module:
        """Return the network with softmax and arg-max: ``(label, probabilities)``."""
        from mlops_gitops.training.network import ExportHead

        return ExportHead(network)

    def scores(self, graph: nn.Module, matrix: torch.Tensor) -> torch.Tensor:
        """Return the class probabilities."""
        probabilities: torch.Tensor = graph(matrix)[1]
        return probabilities

    def module(
        self, network: TabularNetwork, spec: HeadSpec, task: Task, *, lr: float, weight_decay: float
    ) -> L.LightningModule:
        """Return a cross-entropy classifier of ``network``."""
        from mlops_gitops.training.lightning_module import TabularClassifier

        return TabularClassifier(network, task, lr=lr, weight_decay=weight_decay)


class ScaledValueHead:
    """One standardised value; the graph returns it in the label's units."""

    name: str = "value"
    outputs: tuple[str, ...] = ("prediction",)

    def spec(self, data: TrainingData) -> dict[str, str | int | float]:
        """Return the head's name, one output, and the training label's mean and deviation."""
        import numpy as np

        values = np.asarray(data.train_label, dtype=np.float64)
        deviation = float(np.std(values))
        return {
            "head": self.name,
            "outputs": 1,
            "shift": float(np.mean(values)),
            "scale": deviation if deviation > 0 else 1.0,
        }

    def targets(self, labels: npt.NDArray[np.generic]) -> torch.Tensor:
        """Return the values as float32, in the label's units (the module standardises them)."""
        import numpy as np
        import torch

        return torch.tensor(np.asarray(labels, dtype=np.float32))

    def graph(self, network: TabularNetwork, spec: HeadSpec) -> networks.ValueHead:
        """Return the network with the label's scale undone: ``prediction`` ``[N, 1]``."""
        from mlops_gitops.training import network as networks

        return networks.ValueHead(network, shift=float(spec["shift"]), scale=float(spec["scale"]))

    def scores(self, graph: nn.Module, matrix: torch.Tensor) -> torch.Tensor:
        """Return the values, flat."""
        values: torch.Tensor = graph(matrix).reshape(-1)
        return values

    def module(
        self, network: TabularNetwork, spec: HeadSpec, task: Task, *, lr: float, weight_decay: float
    ) -> L.LightningModule:
        """Return a mean-squared-error regressor of ``network`` on the standardised label."""
        from mlops_gitops.training.lightning_module import TabularRegressor

        graph = self.graph(network, spec)
        return TabularRegressor(graph, task, lr=lr, weight_decay=weight_decay)


CLASSES, VALUE = ClassesHead(), ScaledValueHead()
# The tasks the lightning family fits, and the head each one trains.
HEADS: dict[str, Head] = {"binary": CLASSES, "multiclass": CLASSES, "regression": VALUE}
# A head by the name network.json records (models from before heads existed: classes).
HEADS_BY_NAME: dict[str, Head] = {head.name: head for head in (CLASSES, VALUE)}
