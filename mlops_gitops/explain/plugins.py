"""The explainer plug-in point: attribution methods by name, extensible by entry points.

An explainer turns rows into :class:`Attributions` (one contribution per
feature and row). The built-ins are ``shap`` and ``lime``; a package adds
its own by declaring an entry point in the group ``mlops_gitops.explainers``
whose object is an explainer class (or instance)::

    [project.entry-points."mlops_gitops.explainers"]
    anchors = "my_package.explainers:AnchorsExplainer"

and the project lists it in ``params.yaml`` (``explain.explainers``) or
passes ``--method anchors`` to ``mlops explain``.
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlops_gitops.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from mlops_gitops.explain.attribution import Attributions
    from mlops_gitops.explain.model import TabularModel
    from mlops_gitops.explain.settings import ExplainSettings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mlops_gitops.explainers"


@runtime_checkable
class Explainer(Protocol):
    """An attribution method: contributions of each feature to each row's output."""

    name: str

    def attribute(
        self,
        model: TabularModel,
        rows: pd.DataFrame,
        *,
        background: pd.DataFrame,
        settings: ExplainSettings,
    ) -> Attributions:
        """Return the attributions of ``rows``; ``background`` is a sample of training rows."""
        ...


def builtin_explainers() -> dict[str, Explainer]:
    """Return the explainers shipped with the toolkit, by name."""
    from mlops_gitops.explain.attribution import ShapExplainer
    from mlops_gitops.explain.local import LimeExplainer

    return {"shap": ShapExplainer(), "lime": LimeExplainer()}


def list_explainers() -> dict[str, Explainer]:
    """Return every explainer: the built-ins, then those of installed entry points.

    Raises:
        ConfigError: an entry point cannot be loaded or is not an explainer.
    """
    explainers = builtin_explainers()
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in explainers and entry.value.startswith("mlops_gitops."):
            continue  # a built-in declared in our own pyproject.toml
        try:
            loaded = entry.load()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"explainer plug-in '{entry.name}' ({entry.value}) cannot be loaded"
            ) from exc
        explainer = loaded() if isinstance(loaded, type) else loaded
        if not isinstance(explainer, Explainer):
            raise ConfigError(
                f"explainer plug-in '{entry.name}' ({entry.value}): expected an object with "
                "'name' and 'attribute(model, rows, *, background, settings)'"
            )
        explainers[entry.name] = explainer
    return explainers


def find_explainer(name: str) -> Explainer:
    """Return the explainer called ``name``.

    Raises:
        ConfigError: no explainer has that name; the message lists the known ones.
    """
    explainers = list_explainers()
    if name not in explainers:
        raise ConfigError(
            f"explain.explainers: unknown explainer '{name}' "
            f"(known: {', '.join(sorted(explainers))}); "
            f"install a plug-in that declares it in the '{ENTRY_POINT_GROUP}' entry-point group"
        )
    return explainers[name]
