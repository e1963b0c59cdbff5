"""CI: the glue between the pipeline, the policies, the reports and the forges.

What ``git push`` sets off, on GitHub (``mlops ci ...`` in the workflows)
and on the local forge (its hooks and ``mlops runner``): train and report,
the gate as a required status, deploy on merge. ``policies`` returns
decisions and ``forge`` publishes them; only this concept knows both.

The names below are imported on first use, so that the server-side hooks
(which import :mod:`mlops_gitops.ci.hooks`) start without pydantic or jinja2.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_gitops.ci.deploy import changed_environments
    from mlops_gitops.ci.gate import (
        ForgeApprovals,
        GateOutcome,
        evaluate_gate,
        forge_approvals,
        trusted_policies,
    )
    from mlops_gitops.ci.hooks import RefUpdate, parse_updates, post_receive, pre_receive
    from mlops_gitops.ci.runner import RunnerSettings, prepare_work_tree, run_runner
    from mlops_gitops.ci.train import TrainOutcome, TrainRequest, push_commit, train_change

_WHERE = {
    "changed_environments": "deploy",
    "ForgeApprovals": "gate",
    "GateOutcome": "gate",
    "evaluate_gate": "gate",
    "forge_approvals": "gate",
    "trusted_policies": "gate",
    "RefUpdate": "hooks",
    "parse_updates": "hooks",
    "post_receive": "hooks",
    "pre_receive": "hooks",
    "RunnerSettings": "runner",
    "prepare_work_tree": "runner",
    "run_runner": "runner",
    "TrainOutcome": "train",
    "TrainRequest": "train",
    "push_commit": "train",
    "train_change": "train",
}

__all__ = [
    "ForgeApprovals",
    "GateOutcome",
    "RefUpdate",
    "RunnerSettings",
    "TrainOutcome",
    "TrainRequest",
    "changed_environments",
    "evaluate_gate",
    "forge_approvals",
    "parse_updates",
    "post_receive",
    "pre_receive",
    "prepare_work_tree",
    "push_commit",
    "run_runner",
    "train_change",
    "trusted_policies",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"mlops_gitops.ci.{_WHERE[name]}"), name)
