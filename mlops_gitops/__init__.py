"""mlops-gitops: an MLOps platform where Git is the system of record.

The package is the library behind the ``mlops`` command line; every command
is one of these functions first::

    import mlops_gitops as mg

    mg.register(".", "credit-default", bump="minor")
    mg.promote(".", "credit-default", "v0.1.0", to="dev")
    print(mg.status("."))

Importing the package is cheap: each name is imported from its concept
module on first use, so ``import mlops_gitops`` never loads torch, pandas or DVC.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> concept module that defines it
_EXPORTS: dict[str, str] = {
    "MlopsError": "errors",
    "GateBlocked": "errors",
    "init_project": "project",
    "run_demo": "demo",
    "load_params": "params",
    "generate_sample": "data",
    "read_dataset": "data",
    "validate_dataset": "quality",
    "protect_pii": "quality",
    "train_model": "training",
    "export_model": "training",
    "evaluate_model": "evaluation",
    "explain_model": "explain",
    "explain_prediction": "explain",
    "fairness_metrics": "explain",
    "register": "registry",
    "promote": "registry",
    "rollback": "registry",
    "deprecate": "registry",
    "retire": "registry",
    "status": "registry",
    "history": "registry",
    "list_versions": "registry",
    "find_version": "registry",
    "verify": "registry",
    "gc": "registry",
    "read_environment": "manifests",
    "load_policy_set": "policies",
    "build_bundle": "policies",
    "evaluate": "policies",
    "run_gate": "policies",
    "open_forge": "forge",
    "render_protection": "access",
    "build_pr_report": "reports",
    "serve": "serving",
    "predict_file": "serving",
    "export_edge": "serving",
    "render_k8s": "serving",
    "deploy": "serving",
    "compute_drift": "monitoring",
    "run_monitoring": "monitoring",
    "build_site": "site",
    "list_events": "audit",
}

__all__ = [
    "GateBlocked",
    "MlopsError",
    "__version__",
    "build_bundle",
    "build_pr_report",
    "build_site",
    "compute_drift",
    "deploy",
    "deprecate",
    "evaluate",
    "evaluate_model",
    "explain_model",
    "explain_prediction",
    "export_edge",
    "export_model",
    "fairness_metrics",
    "find_version",
    "gc",
    "generate_sample",
    "history",
    "init_project",
    "list_events",
    "list_versions",
    "load_params",
    "load_policy_set",
    "open_forge",
    "predict_file",
    "promote",
    "protect_pii",
    "read_dataset",
    "read_environment",
    "register",
    "render_k8s",
    "render_protection",
    "retire",
    "rollback",
    "run_demo",
    "run_gate",
    "run_monitoring",
    "serve",
    "status",
    "train_model",
    "validate_dataset",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlops_gitops' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mlops_gitops.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
