"""The starter policies on real bundles: a real repository with registered versions.

Each starter rule is driven to pass, warn and block by changing the
repository the way a user would (a training branch with new metrics, a
promotion branch written by ``mlops promote``, approvals, a waiver), then
the gate builds the bundle from Git, DVC files and the registry.
"""

from __future__ import annotations

import json

import pytest

from mlops_gitops.policies import Approval, StaticApprovals
from mlops_gitops.policies.gate import replay_gate

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"


def outcome(result, rule_id):
    return next(r for r in result.decision.results if r.id == rule_id)


def approve(*reviewers, on):
    return (StaticApprovals([Approval(reviewer, on) for reviewer in reviewers]),)


# -- training branches ------------------------------------------------------------------


def test_training_branch_reads_candidate_from_work_tree_and_base_from_git(gate_repo, decide):
    gate_repo.branch("train/better")
    gate_repo.commit(gate_repo.metrics(roc_auc=0.85), "Retrain")
    result = decide()
    bundle = result.bundle
    assert bundle.target.kind == "training" and bundle.target.branch == "train/better"
    assert bundle.candidate.source == "workspace" and bundle.candidate.model == "credit-default"
    assert bundle.candidate.metrics["roc_auc"] == 0.85
    assert bundle.base.metrics["roc_auc"] == 0.83
    assert bundle.deltas.base["roc_auc"] == pytest.approx(0.02)
    assert bundle.changed_files == ["metrics/evaluate.json"]
    assert bundle.candidate.params["train"]["roc_auc"] == 0.83
    assert bundle.deployed is None and bundle.change is None
    assert outcome(result, "no-regression-base").outcome == "pass"
    assert result.decision.verdict == "pass"


def test_training_branch_regression_against_base_warns(gate_repo, decide):
    gate_repo.branch("train/worse")
    gate_repo.commit(gate_repo.metrics(roc_auc=0.80), "Retrain")
    result = decide()
    check = outcome(result, "no-regression-base")
    assert check.outcome == "warn"
    assert check.values["deltas.base.roc_auc"] == pytest.approx(-0.03)
    assert result.decision.verdict == "warn"


def test_datasets_changed_come_from_dvc_lock_hashes(gate_repo, decide):
    first_training = gate_repo.head() + "~6"
    result = decide("dev", base=first_training)
    datasets = result.bundle.datasets
    assert result.bundle.datasets_changed == ["data/prepared/train.csv"]
    assert datasets["data/prepared/train.csv"].base_md5 != datasets["data/prepared/train.csv"].md5
    assert result.bundle.params_changed.base == ["data.rows", "train.accuracy", "train.roc_auc"]


@pytest.mark.parametrize(
    ("env", "diff", "expected"),
    [(None, 1.0e-7, "pass"), ("dev", 0.01, "warn"), (None, 0.01, "block")],
)
def test_onnx_equivalence(gate_repo, decide, env, diff, expected):
    gate_repo.branch("train/export")
    gate_repo.commit({"metrics/export.json": json.dumps({"onnx_max_abs_diff": diff})})
    result = decide(env)
    assert outcome(result, "onnx-equivalence").outcome == expected
    assert result.bundle.onnx.tolerance == 0.0001


@pytest.mark.parametrize(
    ("env", "passed", "expected"),
    [(None, True, "pass"), ("dev", False, "warn"), (None, False, "block")],
)
def test_validation_passed(gate_repo, decide, env, passed, expected):
    gate_repo.branch("train/data")
    gate_repo.commit({"reports/validation.json": json.dumps({"passed": passed, "rows": 3})})
    assert outcome(decide(env), "validation-passed").outcome == expected


def test_missing_validation_report_blocks(gate_repo, decide):
    (gate_repo.path / "reports/validation.json").unlink()
    check = outcome(decide(), "validation-passed")
    assert check.outcome == "block" and check.message == "required evidence absent: validation"


@pytest.mark.parametrize(
    ("env", "roc_auc", "expected"),
    [("prod", 0.84, "pass"), ("staging", 0.68, "warn"), ("prod", 0.72, "block")],
)
def test_min_metrics(gate_repo, decide, env, roc_auc, expected):
    gate_repo.branch("train/metrics")
    gate_repo.commit(gate_repo.metrics(roc_auc=roc_auc))
    check = outcome(decide(env), "min-metrics")
    assert check.outcome == expected
    assert check.values["candidate.metrics.roc_auc"] == roc_auc


@pytest.mark.parametrize(
    ("env", "roc_auc", "expected"),
    [("prod", 0.81, "pass"), ("staging", 0.80, "warn"), ("prod", 0.76, "block")],
)
def test_no_regression_against_the_deployed_version(gate_repo, decide, env, roc_auc, expected):
    gate_repo.branch("train/regression")
    gate_repo.commit(gate_repo.metrics(roc_auc=roc_auc))
    result = decide(env)
    deployed = {"prod": "v1.0.0", "staging": "v1.1.0"}[env]
    assert result.bundle.deployed.version == deployed
    assert result.bundle.deployed.source == "registry"
    check = outcome(result, "no-regression")
    assert check.outcome == expected
    assert f"against {deployed}" in check.message


@pytest.mark.parametrize(
    ("env", "difference", "expected"),
    [("prod", 0.04, "pass"), ("staging", 0.15, "warn"), ("prod", 0.15, "block")],
)
def test_fairness_parity_reads_fairness_metrics(gate_repo, decide, env, difference, expected):
    gate_repo.branch("train/fairness")
    gate_repo.commit(gate_repo.metrics(fairness={"demographic_parity_difference": difference}))
    result = decide(env)
    assert result.bundle.fairness.demographic_parity_difference == difference
    assert outcome(result, "fairness-parity").outcome == expected


@pytest.mark.parametrize(
    ("env", "page", "expected"),
    [("prod", "complete", "pass"), ("staging", "none", "warn"), ("prod", "partial", "block")],
)
def test_model_card_present_reads_the_hand_written_page(gate_repo, decide, env, page, expected):
    card = gate_repo.path / "docs" / "models" / "credit-default.md"
    if page == "none":
        card.unlink()
    elif page == "partial":
        card.write_text(card.read_text().replace("## Limitations", "## Notes"))
    result = decide(env)
    check = outcome(result, "model-card-present")
    assert check.outcome == expected
    missing = {"complete": [], "partial": ["limitations"]}.get(page)
    if missing is not None:
        assert result.bundle.model_card.missing_sections == missing


# -- promotions --------------------------------------------------------------------------


def test_promotion_bundle_describes_the_manifest_change(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    result = decide()
    change = result.bundle.change
    assert result.bundle.target.kind == "promotion" and result.bundle.target.environment == "prod"
    assert (change.model, change.version, change.previous_version) == (
        "credit-default",
        "v1.1.0",
        "v1.0.0",
    )
    assert (change.from_environment, change.to_environment, change.strategy) == (
        "staging",
        "prod",
        "direct",
    )
    assert change.soak_hours == 48.0 and change.required_soak_hours == 24.0
    assert (
        result.bundle.candidate.source == "registry" and result.bundle.candidate.version == "v1.1.0"
    )
    assert result.bundle.deployed.version == "v1.0.0"
    assert result.bundle.deltas.deployed["roc_auc"] == pytest.approx(0.03)
    assert result.decision.model == "credit-default" and result.decision.version == "v1.1.0"


def test_canary_promotion_records_its_weight(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod", canary=10)
    change = decide().bundle.change
    assert (change.strategy, change.canary_weight, change.version) == ("canary", 10.0, "v1.1.0")


@pytest.mark.parametrize(
    ("version", "env", "now", "expected"),
    [
        ("v1.1.0", "prod", "2026-01-16T12:00:00+00:00", "pass"),
        ("v1.2.0", "staging", "2026-01-15T09:30:00+00:00", "block"),
        ("v1.1.0", "prod", "2026-01-14T15:00:00+00:00", "block"),
    ],
)
def test_soak_time(gate_repo, decide, version, env, now, expected):
    gate_repo.promote(version, env)
    check = outcome(decide(now=now), "soak-time")
    assert check.outcome == expected


def test_two_ml_leads_on_the_head_commit_approve_a_prod_promotion(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    result = decide(approvals=approve(ALICE, BOB, on=gate_repo.head()))
    assert outcome(result, "promotion-approvals").outcome == "pass"
    assert result.bundle.approvals.count == {"ml-leads": 2, "ml-engineers": 2}


def test_a_staging_promotion_without_approval_blocks(gate_repo, decide):
    gate_repo.promote("v1.2.0", "staging")
    assert outcome(decide(), "promotion-approvals").outcome == "block"
    assert outcome(decide(), "roles-approvals").outcome == "block"


def test_self_approval_never_counts(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    gate_repo.commit(
        {"NOTES.md": "release notes\n"}, GIT_AUTHOR_EMAIL=ALICE, GIT_AUTHOR_NAME="Alice"
    )
    result = decide(approvals=approve(ALICE, BOB, on=gate_repo.head()))
    approvals = result.bundle.approvals
    assert approvals.self_approvals == ["alice"] and approvals.count["ml-leads"] == 1
    check = outcome(result, "promotion-approvals")
    assert check.outcome == "block" and "self-approvals ignored [alice]" in check.message


def test_stale_approval_on_an_older_commit_is_reported_not_counted(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    older = gate_repo.head()
    gate_repo.commit({"NOTES.md": "one more change\n"})
    result = decide(approvals=approve(ALICE, on=gate_repo.head()) + approve(BOB, on=older))
    approvals = result.bundle.approvals
    assert approvals.stale == ["bob"] and approvals.count["ml-leads"] == 1
    assert outcome(result, "promotion-approvals").outcome == "block"


@pytest.mark.parametrize(
    ("env", "now", "expected"),
    [
        ("prod", "2026-12-01T09:00:00+00:00", "pass"),
        ("staging", "2026-12-24T09:00:00+00:00", "warn"),
        ("prod", "2026-12-24T09:00:00+00:00", "block"),
    ],
)
def test_freeze_window(gate_repo, decide, env, now, expected):
    gate_repo.promote("v1.1.0" if env == "prod" else "v1.2.0", env)
    check = outcome(decide(now=now), "freeze-window")
    assert check.outcome == expected


def test_unsigned_commits_to_prod_warn(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    check = outcome(decide(), "signed-commits")
    assert check.outcome == "warn" and "head signature N" in check.message


def test_ssh_signed_commits_pass(gate_repo, decide):
    import subprocess

    key = gate_repo.path.parent / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    signers = gate_repo.path.parent / "allowed_signers"
    signers.write_text(f"ada@example.com {(key.with_suffix('.pub')).read_text()}")
    for name, value in (
        ("gpg.format", "ssh"),
        ("user.signingkey", str(key)),
        ("gpg.ssh.allowedSignersFile", str(signers)),
        ("commit.gpgsign", "true"),
    ):
        gate_repo.git("config", name, value)
    gate_repo.branch("train/signed")
    gate_repo.commit(gate_repo.metrics(roc_auc=0.84), "Signed retrain")
    result = decide("prod")
    assert result.bundle.commit.signature == "G" and result.bundle.commit.verified
    assert outcome(result, "signed-commits").outcome == "pass"


# -- protected paths and waivers -----------------------------------------------------------

WAIVER = """\
waivers:
  - id: W-1
    rule: no-regression
    scope: {{model: credit-default, environment: {env}}}
    reason: accepted while the feature pipeline is rebuilt (RISK-42)
    approver: alice
    expires: {expires}
"""


def _regression_with_waiver(gate_repo, *, env="prod", expires="2026-02-01"):
    gate_repo.branch("train/waived")
    files = {
        "policies/waivers.yaml": WAIVER.format(env=env, expires=expires),
        **gate_repo.metrics(roc_auc=0.76),
    }
    return gate_repo.commit(files, "Waive the regression")


def test_changing_waivers_needs_an_ml_lead(gate_repo, decide):
    head = _regression_with_waiver(gate_repo)
    assert outcome(decide("prod"), "protected-paths-approvals").outcome == "block"
    result = decide("prod", approvals=approve(ALICE, on=head))
    assert outcome(result, "protected-paths-approvals").outcome == "pass"
    assert result.bundle.approvals.required_for_paths == {"ml-leads": 1}


def test_waiver_turns_a_block_into_a_warning_that_cites_it(gate_repo, decide):
    head = _regression_with_waiver(gate_repo)
    result = decide("prod", approvals=approve(ALICE, on=head))
    check = outcome(result, "no-regression")
    assert check.outcome == "waived" and check.waiver == "W-1"
    assert "waived by W-1 (approved by alice, until 2026-02-01)" in check.note
    assert result.decision.verdict == "warn"


def test_expired_waiver_no_longer_applies_and_is_reported(gate_repo, decide):
    head = _regression_with_waiver(gate_repo, expires="2026-01-10")
    result = decide("prod", approvals=approve(ALICE, on=head))
    check = outcome(result, "no-regression")
    assert check.outcome == "block" and check.waiver is None
    assert check.note == "waiver W-1 expired on 2026-01-10"
    assert result.decision.expired_waivers == ("W-1",)


def test_waiver_out_of_scope_does_not_apply(gate_repo, decide):
    head = _regression_with_waiver(gate_repo, env="staging")
    result = decide("prod", approvals=approve(ALICE, on=head))
    assert outcome(result, "no-regression").outcome == "block"
    assert result.decision.verdict == "block"


# -- records and replay ----------------------------------------------------------------------


def test_gate_record_replays_to_the_identical_decision(gate_repo, decide):
    gate_repo.promote("v1.1.0", "prod")
    result = decide(approvals=approve(ALICE, on=gate_repo.head()))
    assert result.record == gate_repo.path / ".mlops" / "gate" / f"{gate_repo.head()}.json"
    replay = replay_gate(gate_repo.path, result.record)
    assert replay.decision == result.decision
    assert replay.matches_record is True
    assert replay.bundle == result.bundle


def test_ab_split_promotes_its_first_variant(gate_repo, decide):
    from mlops_gitops.manifests import read_environment
    from mlops_gitops.roundtrip import modify_yaml

    artifact = read_environment(gate_repo.path, "staging").models["credit-default"].artifact
    gate_repo.branch("promote/prod/ab")
    with modify_yaml(gate_repo.path / "envs" / "prod.yaml") as doc:
        variant = {
            "name": "b",
            "version": "v1.1.0",
            "artifact": artifact.model_dump(),
            "weight": 20,
        }
        doc["models"]["credit-default"]["rollout"] = {"strategy": "ab", "variants": [variant]}
    gate_repo.commit({}, "A/B test v1.1.0")
    change = decide().bundle.change
    assert (change.strategy, change.version, change.canary_weight) == ("ab", "v1.1.0", 20.0)


def test_a_manifest_edit_that_deploys_nothing_is_not_a_promotion(gate_repo, decide):
    gate_repo.branch("envs/comment")
    text = (gate_repo.path / "envs" / "prod.yaml").read_text()
    gate_repo.commit({"envs/prod.yaml": text + "# reviewed\n"}, "Comment")
    bundle = decide().bundle
    assert bundle.target.kind == "training" and bundle.target.environment == "prod"
    assert bundle.change is None and bundle.deployed.version == "v1.0.0"


def test_a_deployed_version_must_be_registered(gate_repo, decide):
    from mlops_gitops.policies.source import PolicyError

    gate_repo.git("tag", "-d", "credit-default@v1.0.0")
    with pytest.raises(
        PolicyError, match=r"^credit-default v1\.0\.0 serves in the target environment but is not"
    ):
        decide("prod")
