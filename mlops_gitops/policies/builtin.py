"""The gate's own rules: what holds whatever the rule files of a project say.

``policies/roles.yaml`` declares the approvals each environment and each
protected path needs; :func:`builtin_results` enforces them as the rule
``roles-approvals`` (block, never waivable), so deleting or loosening a CEL
rule cannot lower what roles.yaml requires: loosening roles.yaml itself is a
policy change that needs the approvals of the base's roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import JsonValue

    from mlops_gitops.policies.bundle import Approvals, EvidenceBundle
    from mlops_gitops.policies.judge import RuleResult

ROLES_RULE = "roles-approvals"
SOURCE = "built-in (policies/roles.yaml)"


def builtin_results(bundle: EvidenceBundle) -> tuple[RuleResult, ...]:
    """Return the results of the built-in rules that apply to ``bundle`` (none skip)."""
    result = judge_roles_approvals(bundle.approvals)
    return () if result is None else (result,)


def judge_roles_approvals(approvals: Approvals) -> RuleResult | None:
    """Judge the approvals roles.yaml requires for the changed paths (manifests included).

    Returns None when roles.yaml requires no approval for the change.
    """
    from mlops_gitops.policies.judge import RuleResult

    needed = approvals.required_for_paths
    values: dict[str, JsonValue] = {
        "count": dict(sorted(approvals.count.items())),
        "required": dict(sorted(needed.items())),
    }
    if not any(needed.values()):
        return None
    short = {t: n for t, n in needed.items() if approvals.count.get(t, 0) < n}
    message = (
        f"approvals counted {_teams(approvals.count)}, required {_teams(needed)}; "
        f"stale {approvals.stale}, self-approvals ignored {approvals.self_approvals}"
    )
    if approvals.unattributed:
        shown = ", ".join(c[:12] for c in approvals.unattributed[:3])
        message += (
            f"; no approval counts: the forge cannot tell who made {shown}"
            " (push with 'git push --signed' or sign the commits)"
        )
    if short:
        return RuleResult(
            id=ROLES_RULE,
            outcome="block",
            severity="block",
            message=message,
            values=values,
            source=SOURCE,
        )
    return RuleResult(
        id=ROLES_RULE,
        outcome="pass",
        severity="block",
        message=message,
        values=values,
        source=SOURCE,
    )


def _teams(counts: dict[str, int]) -> str:
    return "{" + ", ".join(f"{team}: {n}" for team, n in sorted(counts.items())) + "}"
