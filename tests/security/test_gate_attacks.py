"""Red team: one insider against the local forge's gate, with real keys, clones and pushes.

Each test is an attack a member of the team could try on a real forge (bare
repository with the toolkit's hooks): the push is refused with a one-line
reason, or lands without what it was after. The tiny forge of tests/ci has
alice and bob (ml-leads, allowed signers), mallory (an ml-lead whose key is
in no allowed_signers file) and ada, who pushes with signed certificates.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from mlops_gitops.forge import ChangeRef, GateStatus
from mlops_gitops.forge.local import LocalForge, init_forge
from mlops_gitops.forge.receipts import read_receipts
from mlops_gitops.forge.signed_approvals import approval_tag_name, sign_approval
from mlops_gitops.registry.graph import parse_time
from tests.helpers import sh
from tests.helpers.repos import add_dvc
from tests.helpers.tiny_forge import TinyForge, sign_pushes

pytestmark = pytest.mark.slow


def _head(repo: Path, rev: str = "HEAD") -> str:
    return sh(f"git rev-parse {rev}", repo).stdout.strip()


def _main(tiny: TinyForge) -> str:
    return _head(tiny.forge, "refs/heads/main")


def _promotion(tiny: TinyForge, *, author: str | None = None) -> str:
    """Register v1.0.0, push the tag, and put a prod promotion on the clone's main."""
    from mlops_gitops.registry import register
    from mlops_gitops.registry.promote import promote

    register(tiny.clone, "credit-default", version="v1.0.0")
    sh("git push -q origin --tags", tiny.clone)
    change = promote(tiny.clone, "credit-default", "v1.0.0", to="prod")
    sh(f"git checkout -q main && git merge -q --ff-only {change.branch}", tiny.clone)
    if author:
        sh(f"git commit -q --amend --no-edit --author '{author}'", tiny.clone)
    return _head(tiny.clone)


def _approve(tiny: TinyForge, sha: str, name: str, env: str = "prod") -> str:
    return "refs/tags/" + sign_approval(tiny.clone, env, sha, key=tiny.keys[name], user=name)


def _push(tiny: TinyForge, *refs: str) -> tuple[int, str]:
    done = sh(f"git push origin {' '.join(refs)}", tiny.clone, check=False)
    return done.returncode, done.stderr


def _commit(tiny: TinyForge, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (tiny.clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (tiny.clone / rel).write_text(text)
    sh(f"git add -A && git commit -qm '{message}'", tiny.clone)
    return _head(tiny.clone)


def _trained(tiny: TinyForge, sha: str) -> None:
    """The runner's verdict on ``sha`` (a training change the runner let through)."""
    LocalForge(tiny.forge).set_gate(
        ChangeRef(sha, "change"), GateStatus(decision="pass", summary="all rules pass")
    )


def test_a_direct_push_of_untrained_work_to_main_is_refused(tiny: TinyForge) -> None:
    sha = _commit(tiny, {"notes.txt": "x\n"}, "Untrained")
    code, err = _push(tiny, "main")
    assert code != 0 and f"main: {sha[:12]} has no gate decision yet" in err


def test_a_force_push_and_a_deletion_of_main_are_refused(tiny: TinyForge) -> None:
    sh("git checkout -q --orphan rewrite && git commit -qm rewritten", tiny.clone)
    code, err = _push(tiny, "+rewrite:main")
    assert code != 0 and "main: history rewrite refused" in err
    code, err = _push(tiny, ":main")
    assert code != 0 and "main: a protected branch cannot be deleted" in err


@pytest.mark.parametrize("kind", ["unsigned", "unknown key", "lightweight"])
def test_an_approval_that_no_allowed_signer_made_is_refused_at_push(
    tiny: TinyForge, kind: str
) -> None:
    sha = _promotion(tiny)
    name = approval_tag_name("prod", sha, "mallory" if kind == "unknown key" else "alice")
    if kind == "unknown key":
        _approve(tiny, sha, "mallory")
    elif kind == "unsigned":
        sh(f"git tag -a -m 'approve {sha} for prod' {name} {sha}", tiny.clone)
    else:
        sh(f"git tag {name} {sha}", tiny.clone)

    code, err = _push(tiny, f"refs/tags/{name}")

    assert code != 0 and f"{name}: not a valid approval" in err
    assert "not an annotated tag" in err if kind == "lightweight" else "does not verify" in err


def test_a_dev_approval_re_pointed_under_a_prod_name_is_refused(tiny: TinyForge) -> None:
    sha = _promotion(tiny)
    dev = [_approve(tiny, sha, who, env="dev") for who in ("alice", "bob")]
    forged = [ref.replace("/approve/dev/", "/approve/prod/") for ref in dev]
    for real, fake in zip(dev, forged, strict=True):
        sh(f"git update-ref {fake} $(git rev-parse {real})", tiny.clone)

    code, err = _push(tiny, "main", *forged)

    assert code != 0 and "(a re-pointed tag)" in err
    assert _main(tiny) != sha


def test_self_approval_is_judged_by_the_pusher_not_the_free_text_author(tiny: TinyForge) -> None:
    sign_pushes(tiny.clone, tiny.keys["alice"])  # alice pushes her own change, posing as dan
    sha = _promotion(tiny, author="Dan <dan@example.com>")

    code, err = _push(tiny, "main", _approve(tiny, sha, "alice"), _approve(tiny, sha, "bob"))

    assert code != 0 and "approvals counted {ml-leads: 1}" in err
    assert "self-approvals ignored [alice]" in err
    assert _main(tiny) != sha


def test_approvals_of_a_change_nobody_can_be_tied_to_do_not_count(tiny: TinyForge) -> None:
    sh("git config push.gpgSign false", tiny.clone)
    sha = _promotion(tiny)

    code, err = _push(tiny, "main", _approve(tiny, sha, "alice"), _approve(tiny, sha, "bob"))

    assert code != 0 and f"the forge cannot tell who made {sha[:12]}" in err


def test_a_signed_push_with_two_independent_approvals_lands(tiny: TinyForge) -> None:
    sha = _promotion(tiny)
    code, err = _push(tiny, "main", _approve(tiny, sha, "alice"), _approve(tiny, sha, "bob"))
    assert code == 0, err
    receipt = read_receipts(tiny.forge)[sha]
    assert (receipt.pusher, receipt.landed_by) == ("ada@example.com", "ada@example.com")


def test_deleting_the_approval_rule_is_a_policy_change_that_needs_approvals(
    tiny: TinyForge,
) -> None:
    rules = (tiny.clone / "policies" / "gate.yaml").read_text()
    loosened = rules[: rules.index("  - id: promotion-approvals")]
    sha = _commit(tiny, {"policies/gate.yaml": loosened}, "Drop the approval rule")
    _trained(tiny, sha)  # its own gate (the base's rules) lets the training change through

    code, err = _push(tiny, "main")
    assert code != 0 and "changes protected paths without approvals" in err
    assert "required {ml-leads: 2}" in err

    code, err = _push(tiny, "main", _approve(tiny, sha, "alice"), _approve(tiny, sha, "bob"))
    assert code == 0, err


def test_reordering_the_environments_needs_the_policy_approvals(tiny: TinyForge) -> None:
    sha = _commit(
        tiny,
        {"envs/environments.yaml": "environments:\n  dev:\n    feeds: [prod]\n  prod:\n"
         "    feeds: []\n"},
        "dev feeds prod",
    )  # fmt: skip
    _trained(tiny, sha)

    code, err = _push(tiny, "main")

    assert code != 0 and "required {ml-leads: 2}" in err


def test_a_change_that_loosens_the_roles_is_judged_by_the_old_roles(tiny: TinyForge) -> None:
    roles = (tiny.clone / "policies" / "roles.yaml").read_text()
    _commit(tiny, {"policies/roles.yaml": roles.replace("prod: {ml-leads: 2}", "prod: {}")}, "x")
    sha = _promotion(tiny)

    code, err = _push(tiny, "main")

    assert code != 0 and "approvals counted {ml-leads: 0}, required {ml-leads: 2}" in err
    assert _main(tiny) != sha


@pytest.mark.parametrize(
    "edit",
    [
        "monitoring:\n  alerts: []\n",
        "monitoring:\n  channels:\n    - {type: webhook, url: 'http://attacker.invalid/'}\n",
    ],
)
def test_a_prod_manifest_edit_outside_models_needs_prod_approvals(
    tiny: TinyForge, edit: str
) -> None:
    sha = _commit(tiny, {"envs/prod.yaml": "models: {}\n" + edit}, "Quiet prod")

    code, err = _push(tiny, "main")

    assert code != 0 and "roles-approvals" in err
    assert _main(tiny) != sha


@pytest.mark.parametrize("move", ["delete", "re-create elsewhere"])
def test_a_registry_tag_cannot_be_deleted_or_moved(tiny: TinyForge, move: str) -> None:
    from mlops_gitops.registry import register

    register(tiny.clone, "credit-default", version="v1.0.0")
    code, err = _push(tiny, "refs/tags/credit-default@v1.0.0")
    assert code == 0, err
    if move == "delete":
        code, err = _push(tiny, ":refs/tags/credit-default@v1.0.0")
    else:
        sh("git commit -q --allow-empty -m elsewhere", tiny.clone)
        sh('git tag -f -a -m \'{"metrics": {"roc_auc": 0.999}}\' credit-default@v1.0.0', tiny.clone)
        code, err = _push(tiny, "-f", "refs/tags/credit-default@v1.0.0")

    assert code != 0 and "registry tags are immutable" in err


def test_a_registry_tag_object_of_another_name_is_refused(tiny: TinyForge) -> None:
    from mlops_gitops.registry import register

    register(tiny.clone, "credit-default", version="v1.0.0")
    sh("git update-ref refs/tags/credit-default@v9.0.0 credit-default@v1.0.0", tiny.clone)

    code, err = _push(tiny, "refs/tags/credit-default@v9.0.0")

    assert code != 0 and "the tag object is named 'credit-default@v1.0.0'" in err


def test_the_forges_notes_cannot_be_written_by_a_client(tiny: TinyForge) -> None:
    sh("git notes --ref=mlops-received add -m '{}' HEAD", tiny.clone)
    code, err = _push(tiny, "+refs/notes/mlops-received")
    assert code != 0 and "written by the forge only" in err


SOAK_RULES = """\
rules:
  - id: soak-time
    description: A version ran long enough in the environment before.
    where: {environments: [staging]}
    requires: [change.soak_hours]
    when_absent: block
    condition: change.soak_hours >= 24.0
    severity: block
    message: "{{ change.version }} ran {{ change.soak_hours }} h in {{ change.from_environment }}"
"""
SOAK_FILES = {
    "dvc.yaml": "stages:\n  make:\n    cmd: echo model > model.txt\n    outs: [model.txt]\n"
    "artifacts:\n  m:\n    path: model.txt\n    type: model\n",
    ".gitignore": ".mlops/\n",
    "policies/gate.yaml": SOAK_RULES,
    "policies/roles.yaml": "teams: {}\n",
    "envs/environments.yaml": "environments:\n  dev:\n    feeds: [staging]\n  staging:\n"
    "    feeds: []\n",
    "envs/dev.yaml": "models: {}\n",
    "envs/staging.yaml": "models: {}\n",
}


def test_soak_time_is_measured_from_the_forges_landing_not_the_commit_date(
    tmp_path: Path, repo_template: Path
) -> None:
    """Every commit here carries the suite's pinned 2026-01-15 date, months before the push."""
    from mlops_gitops.registry import RegistryError, load_state, register, serving_intervals, status
    from mlops_gitops.registry.promote import promote

    forge = init_forge(tmp_path / "forge.git", python=sys.executable).path
    clone = tmp_path / "clone"
    sh(f"git clone -q {forge} {clone}", tmp_path)
    for rel, text in SOAK_FILES.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text)
    add_dvc(repo_template, clone)
    sh("dvc repro -q && git add -A && git commit -qm project", clone)
    sh("git push -q origin main", clone)
    register(clone, "m", version="v1.0.0", check_remote=False)
    sh("git push -q origin --tags", clone)
    for env in ("dev", "staging"):
        change = promote(clone, "m", "v1.0.0", to=env)
        sh(f"git checkout -q main && git merge -q --ff-only {change.branch}", clone)
        pushed = sh("git push origin main", clone, check=False)

    assert pushed.returncode != 0  # the staging promotion, 0 h after dev landed
    assert "soak-time: v1.0.0 ran 0.0" in pushed.stderr and "h in dev" in pushed.stderr
    notes = "'+refs/notes/mlops-*:refs/notes/mlops-*'"
    sh(f"git fetch -q origin {notes} && git reset -q --hard origin/main", clone)
    state = load_state(clone, with_history=True)
    [(start, _)] = serving_intervals(state.events, "dev", "m", "v1.0.0")
    landed = read_receipts(forge)[_head(forge, "refs/heads/main")].landed_at
    assert start.isoformat() == landed
    committed = sh("git log -1 --format=%cI origin/main", clone).stdout.strip()
    assert (start - parse_time(committed)).days > 1  # the commit claims months earlier
    with pytest.raises(RegistryError, match="no commit at or before"):
        status(clone, "dev", at=committed[:10])  # nothing had landed on the claimed day
    [now_running] = status(clone, "dev", at=(start + timedelta(minutes=1)).isoformat()[:16])
    assert now_running.version == "v1.0.0"
