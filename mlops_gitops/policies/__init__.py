"""Policy-as-code: rules in ``policies/*.yaml`` evaluated on an evidence bundle.

Owns the rule files, ``roles.yaml`` and ``waivers.yaml`` of a project's
``policies/`` folder, builds the evidence bundle from the repository (DVC
metrics and params, ``dvc.lock``, git, manifests, the registry, approvals),
evaluates the rules into a :class:`PolicyDecision`, and writes gate records
(``.mlops/gate/<sha>.json``: the bundle and the decision) for replay. It
returns decisions; publishing them is the forge's job.
"""

from __future__ import annotations

from mlops_gitops.policies.approvals import (
    Approval,
    ApprovalProvider,
    ApprovalSet,
    FileApprovals,
    Roles,
    StaticApprovals,
    assess_approvals,
    load_roles,
)
from mlops_gitops.policies.bundle import (
    SCHEMA_VERSION,
    EvidenceBundle,
    Waiver,
    bundle_json_schema,
    parse_bundle,
)
from mlops_gitops.policies.collect import GateRequest, build_bundle
from mlops_gitops.policies.gate import GateResult, read_record, replay_gate, run_gate
from mlops_gitops.policies.judge import PolicyDecision, RuleResult, evaluate_policies
from mlops_gitops.policies.lint import LintFinding, lint_policies
from mlops_gitops.policies.rules import (
    RULE_KINDS,
    LoadedRule,
    PolicySet,
    Rule,
    RuleKind,
    load_policy_set,
)
from mlops_gitops.policies.source import PolicyError
from mlops_gitops.policies.testing import (
    CaseResult,
    PolicyCase,
    PolicyTestReport,
    list_policy_cases,
    run_policy_case,
    run_policy_tests,
)
from mlops_gitops.policies.waivers import load_waivers

__all__ = [
    "RULE_KINDS",
    "SCHEMA_VERSION",
    "Approval",
    "ApprovalProvider",
    "ApprovalSet",
    "CaseResult",
    "EvidenceBundle",
    "FileApprovals",
    "GateRequest",
    "GateResult",
    "LintFinding",
    "LoadedRule",
    "PolicyCase",
    "PolicyDecision",
    "PolicyError",
    "PolicySet",
    "PolicyTestReport",
    "Roles",
    "Rule",
    "RuleKind",
    "RuleResult",
    "StaticApprovals",
    "Waiver",
    "assess_approvals",
    "build_bundle",
    "bundle_json_schema",
    "evaluate_policies",
    "lint_policies",
    "list_policy_cases",
    "load_policy_set",
    "load_roles",
    "load_waivers",
    "parse_bundle",
    "read_record",
    "replay_gate",
    "run_gate",
    "run_policy_case",
    "run_policy_tests",
]
