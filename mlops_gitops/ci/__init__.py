"""CI: the glue between the pipeline, the policies, the reports and the forges.

What ``git push`` sets off, on GitHub (``mlops ci ...`` in the workflows)
and on the local forge (its hooks and ``mlops runner``): train and report,
the gate as a required status, deploy on merge. ``policies`` returns
decisions and ``forge`` publishes them; only this concept knows both.
"""

from __future__ import annotations

from mlops_gitops.ci.deploy import changed_environments
from mlops_gitops.ci.gate import ForgeApprovals, GateOutcome, evaluate_gate, trusted_policies
from mlops_gitops.ci.hooks import RefUpdate, parse_updates, post_receive, pre_receive
from mlops_gitops.ci.runner import RunnerSettings, prepare_work_tree, run_runner
from mlops_gitops.ci.train import TrainOutcome, TrainRequest, push_commit, train_change

__all__ = [
    "ForgeApprovals",
    "GateOutcome",
    "RefUpdate",
    "RunnerSettings",
    "TrainOutcome",
    "TrainRequest",
    "changed_environments",
    "evaluate_gate",
    "parse_updates",
    "post_receive",
    "pre_receive",
    "prepare_work_tree",
    "push_commit",
    "run_runner",
    "train_change",
    "trusted_policies",
]
