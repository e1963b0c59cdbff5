"""The pins evidence: manifest pins at the head commit against the registration tags."""

from __future__ import annotations

from datetime import UTC, datetime

from mlops_gitops.policies.bundle import DecisionSubject, EvidenceBundle, PinMismatch, Pins
from mlops_gitops.policies.judge import evaluate_policies
from mlops_gitops.policies.pins_evidence import collect_pins
from mlops_gitops.policies.rules import load_policy_set
from mlops_gitops.project import template_root
from mlops_gitops.registry import find_version
from tests.helpers import git

NOW = datetime(2026, 2, 5, tzinfo=UTC)


def test_pins_at_the_head_commit_are_compared_with_their_registrations(registered, deploy):
    deploy("credit-default", "v1.0.0", "dev", "2026-02-01T10:00:00+00:00")
    deploy("credit-default", "v1.1.0", "dev", "2026-02-02T10:00:00+00:00", canary=10)
    assert collect_pins(registered.path, rev="HEAD") == Pins(checked=2, mismatches=[])
    other = find_version(registered.path, "credit-default", "v2.0.0").artifact
    pinned = find_version(registered.path, "credit-default", "v1.1.0").artifact
    assert other and pinned
    manifest = registered.path / "envs" / "dev.yaml"
    manifest.write_text(manifest.read_text().replace(pinned.md5, other.md5))
    assert collect_pins(registered.path, rev="HEAD").mismatches == []  # the work tree is not read
    git(registered.path, "commit", "-q", "-am", "Swap the canary's artifact")
    assert collect_pins(registered.path, rev="HEAD") == Pins(
        checked=2,
        mismatches=[
            PinMismatch(
                manifest="envs/dev.yaml",
                model="credit-default",
                version="v1.1.0",
                route="candidate",
                path="models/model.onnx",
                md5=other.md5,
                registered_path="models/model.onnx",
                registered_md5=pinned.md5,
            )
        ],
    )


def test_the_starter_rule_blocks_a_pin_that_differs_and_cannot_be_waived():
    mismatch = PinMismatch(
        manifest="envs/prod.yaml",
        model="credit",
        version="v1.0.0",
        route="stable",
        path="models/model.onnx",
        md5="b" * 32,
        registered_path="models/model.onnx",
        registered_md5="a" * 32,
    )
    bundle = EvidenceBundle(
        now=NOW,
        target=DecisionSubject(environment="prod"),
        pins=Pins(checked=1, mismatches=[mismatch]),
    )
    result = next(
        r
        for r in evaluate_policies(load_policy_set(template_root() / "policies"), bundle).results
        if r.id == "pins-match-registration"
    )
    assert result.outcome == "block"
    assert result.message == (
        f"1 of 1 pins differ from the registration: "
        f"[envs/prod.yaml credit@v1.0.0 pins {'b' * 32}, registered {'a' * 32}]"
    )
