"""Train the model family chosen in ``params.yaml`` on the prepared split.

Reads ``data/prepared/{train,valid}.parquet``, writes ``models/trained/``
(the family's files and ``meta.json``, which records the task, its class
names and the decision threshold) and the dvclive curves. The task (``model.task``) checks and
encodes the label. The id column, the label, PII columns and
``model.features.exclude`` never become features. An unsupervised task
(clustering, anomaly) fits without the label; ``meta.json`` records one only
when the data had it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import JsonValue

from mlops_gitops.digest import file_md5
from mlops_gitops.errors import DataError
from mlops_gitops.params import parse_section
from mlops_gitops.tasks import encode_labels, load_task
from mlops_gitops.tasks.labels import has_labels
from mlops_gitops.tasks.thresholds import DecisionSection, record_rule
from mlops_gitops.training.artifact import ModelMeta, save_model
from mlops_gitops.training.families import TrainingData, load_family
from mlops_gitops.training.features import feature_frame, infer_features, read_frame
from mlops_gitops.training.settings import ModelSection

log = logging.getLogger(__name__)


def _log_start(section: ModelSection, data: TrainingData) -> None:
    log.info(
        "training %s (%s) on %d rows (%d features), validating on %d rows",
        section.family,
        section.task,
        len(data.train),
        len(data.features),
        len(data.valid),
    )


def train_model(  # noqa: PLR0913 - the stage passes each params section by name
    *,
    train: str | os.PathLike[str],
    valid: str | os.PathLike[str],
    trained: str | os.PathLike[str],
    live_dir: str | os.PathLike[str] = "dvclive",
    settings: Mapping[str, object],
    label: str | None,
    id_column: str | None = None,
    pii: Sequence[str] = (),
    decision: Mapping[str, object] | None = None,
) -> ModelMeta | None:
    """Fit the family of ``settings`` (the ``model`` section) and save it to ``trained``.

    ``decision`` is the ``evaluate`` section: its decision rule is recorded
    in the model's metadata (an ``auto`` threshold is chosen on ``valid``).

    Returns the model's metadata, or None in the processes of a distributed
    run that do not save (only global rank zero writes).

    Raises:
        ConfigError: the ``model`` section is invalid.
        DataError: the data has no usable features or label.
        TrainingError: the family failed.
    """
    section = parse_section(ModelSection, settings, "model")
    rule = parse_section(DecisionSection, decision or {}, "evaluate")
    # A label column is never a feature, whether the task fits it or not.
    keys = [name for name in (label, id_column) if name]
    excluded = {*keys, *pii, *section.features.exclude}
    data = _training_data(
        Path(train), Path(valid), task=section.task, label=label, exclude=excluded
    )
    family = load_family(section.family)
    _log_start(section, data)
    fitted = family.fit(data, section.family_settings(), seed=section.seed, live_dir=Path(live_dir))
    if fitted is None:
        return None
    threshold, criterion = record_rule(
        load_task(section.task), data.valid_label, lambda: fitted.predict(data.valid), rule
    )
    if criterion:
        log.info("threshold %.4f chosen on the validation split by %s", threshold, criterion)
    meta = ModelMeta(
        name=section.name,
        family=section.family,
        task=section.task,
        classes=list(data.classes) if data.classes else None,
        features=list(data.features),
        label=label if has_labels(data.train_label) else None,
        threshold=threshold,
        threshold_criterion=criterion,
        seed=section.seed,
        params=_recorded_params(section),
        rows={"train": len(data.train), "valid": len(data.valid)},
        train_data_md5=file_md5(train),
    )
    save_model(Path(trained), fitted, meta)
    log.info("saved the %s model to %s", section.family, trained)
    return meta


def _training_data(
    train_path: Path, valid_path: Path, *, task: str, label: str | None, exclude: set[str]
) -> TrainingData:
    train = read_frame(train_path)
    valid = read_frame(valid_path)
    features = tuple(infer_features(train, exclude=exclude, origin=str(train_path)))
    if not features:
        raise DataError(
            f"{train_path}: no feature columns left after excluding {', '.join(sorted(exclude))}"
        )
    kind = load_task(task)
    learned = encode_labels(kind, train, label, origin=str(train_path))
    checked = encode_labels(kind, valid, label, origin=str(valid_path), classes=learned.classes)
    return TrainingData(
        train=feature_frame(train, features),
        train_label=learned.values,
        valid=feature_frame(valid, features),
        valid_label=checked.values,
        features=features,
        task=task,
        classes=learned.classes,
    )


def _recorded_params(section: ModelSection) -> dict[str, JsonValue]:
    # A JSON round trip keeps exactly what params.yaml said, as JSON values.
    chosen = {
        "features": section.features.model_dump(mode="json"),
        section.family: dict(section.family_settings()),
    }
    recorded: dict[str, JsonValue] = json.loads(json.dumps(chosen))
    return recorded
