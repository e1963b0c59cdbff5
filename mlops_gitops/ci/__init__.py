"""CI: the glue between the pipeline, the policies, the reports and the forges.

What ``git push`` sets off, on GitHub (``mlops ci ...`` in the workflows)
and on the local forge (its hooks and ``mlops runner``): train and report,
the gate as a required status, deploy on merge. ``policies`` returns
decisions and ``forge`` publishes them; only this concept knows both.

The names below are imported on first use (:mod:`mlops_gitops._lazy`), so
that the server-side hooks (which import :mod:`mlops_gitops.ci.hooks`) start
without pydantic or jinja2: ``import mlops_gitops.ci`` takes 7.5 ms against
0.22 s for every name (about 30x), the hooks' import 86 ms against 0.19 s
(about 2.2x), in ``bench/import_tricks.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_gitops._lazy import lazy_exports

if TYPE_CHECKING:  # the exports, each imported on first use (mlops_gitops/_lazy.py)
    from mlops_gitops.ci.changed_envs import changed_environments
    from mlops_gitops.ci.gate_status import (
        ForgeApprovals,
        GateOutcome,
        evaluate_gate,
        forge_approvals,
        trusted_policies,
    )
    from mlops_gitops.ci.hooks import RefUpdate, parse_updates, post_receive, pre_receive
    from mlops_gitops.ci.job import RunnerSettings, prepare_work_tree, run_runner
    from mlops_gitops.ci.on_push import TrainOutcome, TrainRequest, push_commit, train_change

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
