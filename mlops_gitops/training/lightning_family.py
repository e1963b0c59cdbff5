"""The ``lightning`` family: a tabular network trained with PyTorch Lightning.

Files in ``models/trained/``: ``preprocess.joblib`` (the fitted sklearn
``ColumnTransformer``), ``network.pt`` (the torch state dict) and
``network.json`` (the architecture and the head). The task picks the head
(:data:`mlops_gitops.training.lightning_heads.HEADS`): class logits with
cross-entropy for binary and multiclass, one value with the mean squared
error of the standardised label for regression. Accelerator, devices, strategy and
number of nodes come from params and go to Lightning unchanged, so one GPU,
several GPUs (DDP, FSDP, ...) and several nodes work through Lightning
itself; only global rank zero saves. Curves go to dvclive through
``DVCLiveLogger``: the loss of each epoch, and the task's metrics on the
validation split. Lightning is imported only by ``fit``.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from mlops_gitops.contract import Feature
from mlops_gitops.documents import read_json
from mlops_gitops.errors import ConfigError
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import load_task
from mlops_gitops.training.families import TrainingData, TrainingError
from mlops_gitops.training.lightning_heads import HEADS, HEADS_BY_NAME, HeadSpec

if TYPE_CHECKING:
    import lightning as L
    import numpy as np
    import numpy.typing as npt
    import onnx
    import pandas as pd
    import torch
    from sklearn.compose import ColumnTransformer
    from torch import nn
    from torch.utils.data import DataLoader

    from mlops_gitops.training.network import TabularNetwork

PREPROCESS_FILE = "preprocess.joblib"
WEIGHTS_FILE = "network.pt"
ARCHITECTURE_FILE = "network.json"


class LightningParams(BaseModel):
    """``model.lightning``: the network, the optimiser and Lightning's Trainer settings."""

    model_config = ConfigDict(extra="forbid")

    hidden: list[PositiveInt] = Field(default_factory=lambda: [64, 32])
    dropout: float = Field(0.1, ge=0, lt=1)
    lr: float = Field(0.003, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    batch_size: PositiveInt = 256
    max_epochs: PositiveInt = 8
    accelerator: str = "auto"
    devices: int | str | list[int] = "auto"
    strategy: str = "auto"
    num_nodes: PositiveInt = 1
    precision: str | int = "32-true"


class LightningModel:
    """A fitted preprocessing transformer and tabular network, with its head."""

    def __init__(
        self,
        preprocess: ColumnTransformer,
        network: TabularNetwork,
        features: Sequence[Feature],
        head: HeadSpec,
    ) -> None:
        self.preprocess = preprocess
        self.network = network.eval()
        self.features = tuple(features)
        self.head_spec = dict(head)
        self.head = HEADS_BY_NAME[str(self.head_spec.get("head", "classes"))]

    def predict(self, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``[N, K]`` class probabilities, or ``[N]`` values of a regression head."""
        import numpy as np
        import torch

        graph = self.head.graph(self.network, self.head_spec).eval()
        with torch.no_grad():
            matrix = torch.from_numpy(_matrix(self.preprocess, frame, self.features))
            scores = self.head.scores(graph, matrix).numpy()
        return np.asarray(scores, dtype=np.float64)

    def save(self, folder: Path) -> None:
        """Write the transformer, the state dict and the architecture."""
        import joblib
        import torch

        joblib.dump(self.preprocess, folder / PREPROCESS_FILE)
        state = {k: v.detach().cpu() for k, v in self.network.state_dict().items()}
        torch.save(state, folder / WEIGHTS_FILE)
        architecture = {**_architecture(self.network), **self.head_spec}
        (folder / ARCHITECTURE_FILE).write_text(json.dumps(architecture) + "\n")

    def to_onnx(self, *, opset: int) -> onnx.ModelProto:
        """Return preprocessing (skl2onnx) and network (torch.onnx) merged into one graph."""
        from mlops_gitops.training.preprocessing import sklearn_to_onnx

        width = _input_width(self.network)
        preprocess = sklearn_to_onnx(
            self.preprocess, self.features, opset=opset, output_width=width
        )
        graph = self.head.graph(self.network, self.head_spec).eval()
        return _merge(preprocess, _network_onnx(graph, self.head.outputs, width, opset))


class LightningFamily:
    """Fit, load and export Lightning tabular networks."""

    tasks = tuple(HEADS)

    def fit(
        self, data: TrainingData, settings: Mapping[str, object], *, seed: int, live_dir: Path
    ) -> LightningModel | None:
        """Fit preprocessing, then the network with Lightning; None on non-zero ranks."""
        params = parse_section(LightningParams, settings, "model.lightning")
        import lightning as L

        from mlops_gitops.training.network import TabularNetwork
        from mlops_gitops.training.preprocessing import network_preprocessor

        head = HEADS[data.task]
        spec = head.spec(data)
        L.seed_everything(seed, workers=True, verbose=False)
        preprocess = network_preprocessor(data.features).fit(data.train)
        matrix = _matrix(preprocess, data.train, data.features)
        train = _loader(matrix, head.targets(data.train_label), params.batch_size, seed)
        valid_matrix = _matrix(preprocess, data.valid, data.features)
        valid = _loader(valid_matrix, head.targets(data.valid_label), params.batch_size, None)
        width = int(spec["outputs"])
        network = TabularNetwork(matrix.shape[1], params.hidden, params.dropout, width)
        task = load_task(data.task)
        module = head.module(network, spec, task, lr=params.lr, weight_decay=params.weight_decay)
        trainer = _trainer(params, live_dir)
        with warnings.catch_warnings():
            # In-memory tensors need no loader workers; Lightning suggests them anyway.
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            # Lightning's own use of a deprecated torch pytree API; nothing to act on here.
            warnings.filterwarnings("ignore", ".*treespec.*")
            trainer.fit(module, train, valid)
        if not trainer.is_global_zero:
            return None
        return LightningModel(preprocess, network.cpu(), data.features, spec)

    def load(self, folder: Path, features: tuple[Feature, ...]) -> LightningModel:
        """Load the transformer, architecture and weights from ``folder``."""
        import joblib
        import torch

        from mlops_gitops.training.network import TabularNetwork

        paths = [folder / PREPROCESS_FILE, folder / WEIGHTS_FILE, folder / ARCHITECTURE_FILE]
        for path in paths:
            if not path.exists():
                raise TrainingError(f"{path}: not found; the lightning family writes it in train")
        spec = read_json(paths[2], error=TrainingError)
        # A network.json from before heads existed describes two class logits.
        outputs = spec.get("outputs", 2)
        network = TabularNetwork(spec["inputs"], spec["hidden"], spec["dropout"], outputs)
        network.load_state_dict(torch.load(paths[1], map_location="cpu", weights_only=True))
        head = {k: spec[k] for k in ("head", "outputs", "shift", "scale") if k in spec}
        return LightningModel(joblib.load(paths[0]), network, features, head)


def _matrix(
    preprocess: ColumnTransformer, frame: pd.DataFrame, features: Sequence[Feature]
) -> npt.NDArray[np.float32]:
    import numpy as np

    names = [f.name for f in features]
    return np.asarray(preprocess.transform(frame[names]), dtype=np.float32)


def _input_width(network: TabularNetwork) -> int:
    from torch import nn

    first = next(m for m in network.body if isinstance(m, nn.Linear))
    return int(first.in_features)


def _architecture(network: TabularNetwork) -> dict[str, int | float | list[int]]:
    from torch import nn

    linears = [m for m in network.body if isinstance(m, nn.Linear)]
    dropouts = [m.p for m in network.body if isinstance(m, nn.Dropout)]
    return {
        "inputs": linears[0].in_features,
        "hidden": [m.out_features for m in linears[:-1]],
        "dropout": dropouts[0] if dropouts else 0.0,
    }


def _loader(
    matrix: npt.NDArray[np.float32],
    labels: torch.Tensor,
    batch_size: int,
    shuffle_seed: int | None,
) -> DataLoader[tuple[object, ...]]:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    # torch.tensor copies: pandas hands out read-only arrays, torch wants writable ones.
    dataset = TensorDataset(torch.tensor(matrix), labels)
    if shuffle_seed is None:
        return DataLoader(dataset, batch_size=batch_size, shuffle=False)
    generator = torch.Generator().manual_seed(shuffle_seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)


def _trainer(params: LightningParams, live_dir: Path) -> L.Trainer:
    import lightning as L
    from dvclive.lightning import DVCLiveLogger
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        return L.Trainer(
            max_epochs=params.max_epochs,
            accelerator=params.accelerator,
            devices=params.devices,
            strategy=params.strategy,
            num_nodes=params.num_nodes,
            precision=params.precision,  # type: ignore[arg-type]  # validated by Lightning
            deterministic=True,
            logger=DVCLiveLogger(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            log_every_n_steps=1,
        )
    except (MisconfigurationException, ValueError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"params.yaml model.lightning: {first}") from exc


def _network_onnx(
    graph: nn.Module, outputs: Sequence[str], width: int, opset: int
) -> onnx.ModelProto:
    import torch

    with _quiet_exporter():
        program = torch.onnx.export(
            graph,
            (torch.zeros(2, width),),
            input_names=["features"],
            output_names=list(outputs),
            opset_version=opset,
            dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            verbose=False,
        )
    if program is None:
        raise TrainingError("torch.onnx.export returned no program; the network cannot be exported")
    proto: onnx.ModelProto = program.model_proto
    return proto


@contextmanager
def _quiet_exporter() -> Iterator[None]:
    # The exporter logs that torchvision operators are skipped (tabular networks use none)
    # and warns about its own use of a deprecated pytree API: nothing to act on.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        registration.setLevel(level)


def _merge(preprocess: onnx.ModelProto, network: onnx.ModelProto) -> onnx.ModelProto:
    from onnx import compose, helper

    ir_version = max(preprocess.ir_version, network.ir_version)
    preprocess.ir_version = network.ir_version = ir_version
    keep = {"rename_inputs": False, "rename_outputs": False}
    preprocess = compose.add_prefix(preprocess, "preprocess/", **keep)
    network = compose.add_prefix(network, "network/", **keep)
    merged = compose.merge_models(preprocess, network, io_map=[("features", "features")])
    # merge_models lists a domain once per source model; declare each domain once.
    versions: dict[str, int] = {}
    for entry in merged.opset_import:
        versions[entry.domain] = max(versions.get(entry.domain, 0), entry.version)
    del merged.opset_import[:]
    merged.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(versions.items()))
    return merged
