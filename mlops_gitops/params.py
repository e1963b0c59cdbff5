"""Load ``params.yaml`` and apply Hydra overrides.

``params.yaml`` at the project root holds every tunable. It is composed with
Hydra's compose API (never ``@hydra.main``), so the same override syntax
works here and in ``dvc exp run -S``: ``model.family=lightning``,
``+extra.flag=true``, ``~section.key``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlops_gitops.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel

PARAMS_FILE = "params.yaml"
# The sections the toolkit reads, and the model each is validated as; other
# top-level sections belong to the project's own stages and are left alone.
SECTION_MODELS = {
    "data": "mlops_gitops.data.settings:DataSettings",
    "schema": "mlops_gitops.quality.pandera_schema:SchemaSettings",
    "prepare": "mlops_gitops.data.settings:PrepareSettings",
    "model": "mlops_gitops.training.settings:ModelSection",
    "evaluate": "mlops_gitops.evaluation.evaluate:EvaluateSection",
    "export": "mlops_gitops.training.settings:ExportSection",
    "explain": "mlops_gitops.explain.settings:ExplainSettings",
}
SectionT = TypeVar("SectionT", bound="BaseModel")


def load_params(
    root: str | os.PathLike[str] = ".", overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Return ``ROOT/params.yaml`` composed with ``overrides`` as plain dicts.

    Raises:
        ConfigError: the file is missing or not valid YAML, or an override is invalid.
    """
    path = Path(root).resolve() / PARAMS_FILE
    if not path.exists():
        raise ConfigError(f"{path}: not found; every project needs a params.yaml")
    key = (str(path), path.read_bytes(), tuple(overrides))
    if key not in _COMPOSED:
        _COMPOSED.clear()
        _COMPOSED[key] = _compose(path, overrides)
    return copy.deepcopy(_COMPOSED[key])


_COMPOSED: dict[tuple[str, bytes, tuple[str, ...]], dict[str, Any]] = {}
"""The last composition of this process (a stage checks, then reads, the same file)."""


def _compose(path: Path, overrides: Sequence[str]) -> dict[str, Any]:
    _check_yaml(path)
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(path.parent), version_base="1.3"):
            cfg = compose(config_name=path.stem, overrides=list(overrides))
        data = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: {first}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return {str(k): v for k, v in data.items()}


def check_params(params: dict[str, Any]) -> None:
    """Validate every section of composed ``params`` that the toolkit reads.

    Called before a stage does any work, so a mistake in any section stops the
    first stage DVC runs, not the one that reads the section later.

    Raises:
        ConfigError: one line naming the first invalid field (``params.yaml data.x: ...``).
    """
    import importlib

    for name, ref in SECTION_MODELS.items():
        if name in params:
            module, _, attr = ref.partition(":")
            parse_section(getattr(importlib.import_module(module), attr), params[name], name)


def load_section(
    name: str, root: str | os.PathLike[str] = ".", overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Return one top-level section of the composed params.

    Raises:
        ConfigError: the section is absent or is not a mapping.
    """
    params = load_params(root, overrides)
    if name not in params:
        known = ", ".join(sorted(params)) or "none"
        raise ConfigError(f"{PARAMS_FILE}: no section '{name}' (sections: {known})")
    section = params[name]
    if not isinstance(section, dict):
        raise ConfigError(f"{PARAMS_FILE} {name}: expected a mapping, got {type(section).__name__}")
    return section


def _check_yaml(path: Path) -> None:
    from mlops_gitops.documents import read_yaml

    read_yaml(path)


def parse_section(
    model: type[SectionT], value: Mapping[str, object] | SectionT, where: str
) -> SectionT:
    """Validate a params section (or sub-section) ``value`` as the pydantic ``model``.

    A value that already is a ``model`` is returned as it is, so library
    functions can accept either the raw section or the parsed model.

    Raises:
        ConfigError: the first invalid field, named ``params.yaml WHERE.FIELD``,
            with what was expected and the value found.
    """
    from mlops_gitops.documents import PARAMS, validate

    if isinstance(value, model):
        return value
    return validate(model, dict(value), PARAMS_FILE, prefix=(where,), wording=PARAMS)
