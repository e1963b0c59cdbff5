"""Datasets: the built-in sample, connectors to users' sources, preparing and splitting."""

from __future__ import annotations

from mlops_gitops.data.connectors import (
    BUILTIN_CONNECTORS,
    ENTRY_POINT_GROUP,
    Connector,
    find_connector,
    list_connectors,
    read_dataset,
)
from mlops_gitops.data.intake import IngestResult, ingest
from mlops_gitops.data.prepare import PrepareResult, prepare_dataset
from mlops_gitops.data.sample import generate_later_period, generate_sample
from mlops_gitops.data.settings import DataSettings, PrepareSettings, SampleSettings, SplitSettings
from mlops_gitops.data.split import Split, split_dataset
from mlops_gitops.data.synthetic import SAMPLE_KINDS, generate_kind

__all__ = [
    "BUILTIN_CONNECTORS",
    "ENTRY_POINT_GROUP",
    "SAMPLE_KINDS",
    "Connector",
    "DataSettings",
    "IngestResult",
    "PrepareResult",
    "PrepareSettings",
    "SampleSettings",
    "Split",
    "SplitSettings",
    "find_connector",
    "generate_kind",
    "generate_later_period",
    "generate_sample",
    "ingest",
    "list_connectors",
    "prepare_dataset",
    "read_dataset",
    "split_dataset",
]
