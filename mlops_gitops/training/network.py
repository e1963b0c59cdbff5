"""The tabular network of the ``lightning`` family, in plain torch.

Prediction and export need only this module (torch), never Lightning.
The network maps the preprocessed matrix to its outputs: one logit per
class, or one standardised value. The export heads turn those into the
task's ONNX outputs: :class:`ExportHead` adds the softmax and the arg-max
(``label`` and ``probabilities``, like every other family's classifiers),
:class:`ValueHead` undoes the label's standardisation (``prediction`` in
the label's units).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TabularNetwork(nn.Module):
    """A multi-layer perceptron: Linear, ReLU and Dropout blocks, then ``outputs`` units."""

    def __init__(
        self, inputs: int, hidden: Sequence[int], dropout: float, outputs: int = 2
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, outputs))
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the outputs (class logits, or the standardised value) of each row."""
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


class ValueHead(nn.Module):
    """The network with the label's standardisation undone: values ``[N, 1]`` in label units."""

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, network: TabularNetwork, *, shift: float, scale: float) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("shift", torch.tensor(shift, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return ``prediction``: the network's output times the label's scale, plus its mean."""
        value: torch.Tensor = self.network(features) * self.scale + self.shift
        return value
