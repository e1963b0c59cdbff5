"""mlops-gitops: an MLOps platform where Git is the system of record.

The package is the library behind the ``mlops`` command line; every command
is one of these functions first::

    import mlops_gitops as mg

    mg.register(".", "credit-default", bump="minor")
    mg.promote(".", "credit-default", "v0.1.0", to="dev")
    print(mg.status("."))

Importing the package is cheap: each name is imported from its concept
module on first use (:mod:`mlops_gitops._lazy`), so ``import mlops_gitops``
never loads torch, pandas or DVC: 6.4 ms against 1.26 s for importing every
name, about 200x (``bench/import_tricks.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops._lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:  # the exports, each imported on first use (mlops_gitops/_lazy.py)
    from mlops_gitops.access import render_protection
    from mlops_gitops.audit import list_events
    from mlops_gitops.data import generate_sample, read_dataset
    from mlops_gitops.demo import run_demo
    from mlops_gitops.errors import GateBlocked, MlopsError
    from mlops_gitops.evaluation import evaluate_model
    from mlops_gitops.explain import explain_model, explain_prediction, fairness_metrics
    from mlops_gitops.forge import open_forge
    from mlops_gitops.manifests import read_environment
    from mlops_gitops.monitoring import compute_drift, run_monitoring
    from mlops_gitops.params import load_params
    from mlops_gitops.policies import build_bundle, evaluate_policies, load_policy_set, run_gate
    from mlops_gitops.project import init_project
    from mlops_gitops.quality import protect_pii, validate_dataset
    from mlops_gitops.registry import (
        deprecate,
        find_version,
        gc,
        history,
        list_versions,
        promote,
        register,
        retire,
        rollback,
        status,
        verify,
    )
    from mlops_gitops.reports import build_pr_report
    from mlops_gitops.serving import export_edge, predict_file, render_k8s, serve
    from mlops_gitops.serving.deploy import deploy  # the submodule's name, for mypy
    from mlops_gitops.site import build_site
    from mlops_gitops.training import export_model, train_model

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__, also=["__version__"])
