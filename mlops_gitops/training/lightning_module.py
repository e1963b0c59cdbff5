"""The LightningModule that trains :class:`TabularNetwork` (imports Lightning).

Only :mod:`mlops_gitops.training.lightning_family` imports this module, and
only inside ``fit``: ``import lightning`` costs several seconds.
"""

from __future__ import annotations

import lightning as L
import torch
from torch.nn import functional

from mlops_gitops.training.network import TabularNetwork

Batch = tuple[torch.Tensor, torch.Tensor]


class TabularClassifier(L.LightningModule):
    """Cross-entropy training of a tabular network with AdamW."""

    def __init__(self, network: TabularNetwork, *, lr: float, weight_decay: float) -> None:
        super().__init__()
        self.network = network
        self.lr = lr
        self.weight_decay = weight_decay

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the logits of the network."""
        logits: torch.Tensor = self.network(features)
        return logits

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

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return AdamW over the network's parameters."""
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
