"""The tabular network of the ``lightning`` family, in plain torch.

Prediction and export need only this module (torch), never Lightning.
The network maps the preprocessed matrix to two logits; the export head
adds the softmax and the arg-max so the ONNX outputs are ``label`` and
``probabilities`` like every other family's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TabularNetwork(nn.Module):
    """A multi-layer perceptron: Linear, ReLU and Dropout blocks, then two logits."""

    def __init__(self, inputs: int, hidden: Sequence[int], dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 2))
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the two class logits for each row."""
        logits: torch.Tensor = self.body(features)
        return logits


class ExportHead(nn.Module):
    """The network plus softmax and arg-max: the graph that ONNX export traces."""

    def __init__(self, network: TabularNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(label, probabilities)``."""
        probabilities = torch.softmax(self.network(features), dim=1)
        return torch.argmax(probabilities, dim=1), probabilities
