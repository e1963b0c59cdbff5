"""The LightningModules that train :class:`TabularNetwork` (imports Lightning).

Only :mod:`mlops_gitops.training.lightning_family` imports this module, and
only inside ``fit``: ``import lightning`` costs several seconds.
:class:`TabularClassifier` trains class logits with cross-entropy,
:class:`TabularRegressor` one value with the mean squared error of the
standardised label. Both log the loss of each epoch and, after each
validation epoch, the task's own metrics (:func:`mlops_gitops.tasks.score`)
on the whole validation split, as ``valid/<metric>``.
"""

from __future__ import annotations

import math

import lightning as L
import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional

from mlops_gitops.tasks import DEFAULT_THRESHOLD, Task, score
from mlops_gitops.training.network import TabularNetwork, ValueHead

Batch = tuple[torch.Tensor, torch.Tensor]


class _TabularModule(L.LightningModule):
    """AdamW over the network, and the task's metrics after each validation epoch."""

    # Metrics the validation step already logs batch by batch.
    step_logged: tuple[str, ...] = ()

    def __init__(
        self, network: TabularNetwork, task: Task, *, lr: float, weight_decay: float
    ) -> None:
        super().__init__()
        self.network = network
        self.task = task
        self.lr = lr
        self.weight_decay = weight_decay
        self._scores: list[npt.NDArray[np.float64]] = []
        self._labels: list[npt.NDArray[np.generic]] = []

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Return what the model's score output holds for ``features`` (``FittedModel.predict``)."""
        raise NotImplementedError

    def keep_scores(self, batch: Batch) -> None:
        """Keep a validation batch's scores and labels for the epoch's task metrics."""
        features, labels = batch
        with torch.no_grad():
            scores = self.scores(features).detach().float().cpu().numpy()
        self._scores.append(scores.astype(np.float64))
        self._labels.append(labels.detach().cpu().numpy())

    def on_validation_epoch_start(self) -> None:
        """Forget the previous epoch's scores."""
        self._scores, self._labels = [], []

    def on_validation_epoch_end(self) -> None:
        """Log every finite metric of the task on the epoch's validation rows."""
        if self.trainer.sanity_checking or not self._scores:
            return
        predicted = np.concatenate(self._scores)
        labels = np.concatenate(self._labels)
        values = score(
            self.task, labels, self.task.decision_scores(predicted), threshold=DEFAULT_THRESHOLD
        )
        for name, value in values.items():
            if name not in self.step_logged and math.isfinite(value):
                self.log(f"valid/{name}", value, sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return AdamW over the network's parameters."""
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


class TabularClassifier(_TabularModule):
    """Cross-entropy training of class logits with AdamW."""

    step_logged = ("log_loss", "accuracy")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the logits of the network."""
        logits: torch.Tensor = self.network(features)
        return logits

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Return the class probabilities."""
        return torch.softmax(self.network(features), dim=1)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Return the batch loss and log its epoch mean as ``train/log_loss``."""
        features, labels = batch
        loss = functional.cross_entropy(self.network(features), labels)
        self.log("train/log_loss", loss, on_step=False, on_epoch=True, sync_dist=True)
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Log ``valid/log_loss`` and ``valid/accuracy`` for the epoch."""
        features, labels = batch
        logits = self.network(features)
        loss = functional.cross_entropy(logits, labels)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        self.log("valid/log_loss", loss, on_epoch=True, sync_dist=True)
        self.log("valid/accuracy", accuracy, on_epoch=True, sync_dist=True)
        self.keep_scores(batch)


class TabularRegressor(_TabularModule):
    """Mean-squared-error training of one value, on the label standardised by ``head``."""

    def __init__(self, head: ValueHead, task: Task, *, lr: float, weight_decay: float) -> None:
        super().__init__(head.network, task, lr=lr, weight_decay=weight_decay)
        self.head = head

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the values in the label's units, ``[N, 1]``."""
        value: torch.Tensor = self.head(features)
        return value

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """Return the values in the label's units, flat."""
        values: torch.Tensor = self.head(features).reshape(-1)
        return values

    def _loss(self, batch: Batch) -> torch.Tensor:
        features, labels = batch
        target = (labels - self.head.shift) / self.head.scale
        loss: torch.Tensor = functional.mse_loss(self.network(features).reshape(-1), target)
        return loss

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Return the batch loss; log the epoch mean of the batches' RMSE as ``train/rmse``."""
        loss = self._loss(batch)
        rmse = torch.sqrt(loss.detach()) * self.head.scale
        self.log("train/rmse", rmse, on_step=False, on_epoch=True, sync_dist=True)
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Keep the batch's values for the epoch's metrics (RMSE among them)."""
        self.keep_scores(batch)
