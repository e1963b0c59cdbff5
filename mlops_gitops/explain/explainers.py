"""The explainer plug-in point: attribution methods by name, extensible by entry points.

An explainer turns rows into :class:`Attributions` (one contribution per
feature and row). The built-ins are ``shap`` and ``lime``
(:data:`BUILTIN_EXPLAINERS`); a package adds its own by declaring an entry
point in the group ``mlops_gitops.explainers`` whose object is an explainer class (or instance)::

    [project.entry-points."mlops_gitops.explainers"]
    anchors = "my_package.explainers:AnchorsExplainer"

and the project lists it in ``params.yaml`` (``explain.explainers``) or
passes ``--method anchors`` to ``mlops explain``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from mlops_gitops.errors import ConfigError
from mlops_gitops.plugins import PluginPoint, instance

if TYPE_CHECKING:
    import pandas as pd

    from mlops_gitops.explain.attribution import Attributions
    from mlops_gitops.explain.explained_model import TabularModel
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


BUILTIN_EXPLAINERS: dict[str, str] = {
    "shap": "mlops_gitops.explain.attribution:ShapExplainer",
    "lime": "mlops_gitops.explain.lime_local:LimeExplainer",
}
EXPLAINERS: PluginPoint[Explainer] = PluginPoint(
    group=ENTRY_POINT_GROUP,
    what="explainer",
    protocol=Explainer,
    builtins=BUILTIN_EXPLAINERS,
    error=ConfigError,
    make=instance,
)


def list_explainers() -> dict[str, Explainer]:
    """Return every explainer: the built-ins and those of installed entry points.

    Raises:
        ConfigError: an entry point cannot be loaded or is not an explainer.
    """
    return {name: EXPLAINERS.load(name) for name in EXPLAINERS.names()}


def find_explainer(name: str) -> Explainer:
    """Return the explainer called ``name``.

    Raises:
        ConfigError: no explainer has that name (the message lists the known ones),
            or its plug-in cannot be loaded or is not an explainer.
    """
    return EXPLAINERS.load(name, where="explain.explainers")
