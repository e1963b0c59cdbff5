"""Loading rule files: every rule compiles, errors name file, line and rule id."""

from __future__ import annotations

import textwrap

import pytest

from mlops_gitops.policies import RULE_KINDS, load_policy_set
from mlops_gitops.policies.rules import Rule, list_rule_files, rule_fields
from mlops_gitops.policies.source import PolicyError

RULE = """\
rules:
  - id: min-auc
    description: minimum auc
    condition: {condition}
    severity: block
    message: "auc {{{{ candidate.metrics.roc_auc }}}}"
"""


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder


def load_error(tmp_path, text, name="q.yaml"):
    with pytest.raises(PolicyError) as err:
        load_policy_set(write(tmp_path / "policies", name, text))
    return str(err.value)


def test_rules_load_in_file_order_with_their_lines(tmp_path):
    folder = write(
        tmp_path / "policies", "b.yaml", RULE.format(condition="candidate.metrics.roc_auc > 0.5")
    )
    write(folder, "a.yml", RULE.format(condition="true").replace("min-auc", "always"))
    write(folder, "roles.yaml", "teams: {}\n")
    write(folder, "waivers.yaml", "waivers: []\n")
    policy_set = load_policy_set(folder)
    assert [r.id for r in policy_set.rules] == ["always", "min-auc"]
    assert policy_set.files == ("policies/a.yml", "policies/b.yaml")
    assert policy_set.find("min-auc").source == "policies/b.yaml:2"
    assert policy_set.find("nope") is None
    assert [p.name for p in list_rule_files(folder)] == ["a.yml", "b.yaml"]


def test_empty_file_has_no_rules(tmp_path):
    assert load_policy_set(write(tmp_path / "policies", "q.yaml", "")).rules == ()


def test_malformed_yaml(tmp_path):
    assert load_error(tmp_path, "rules:\n  - id: [x\n").startswith(
        "policies/q.yaml:3: not valid YAML"
    )


def test_unknown_field(tmp_path):
    text = RULE.format(condition="true") + "    sevrity: warn\n"
    assert load_error(tmp_path, text) == (
        "policies/q.yaml:7 rule 'min-auc' sevrity: unknown field; remove it or fix its spelling"
    )


def test_bad_severity_names_the_field(tmp_path):
    text = RULE.format(condition="true").replace("severity: block", "severity: deny")
    assert load_error(tmp_path, text) == (
        "policies/q.yaml:5 rule 'min-auc' severity: input should be 'block' or 'warn'"
    )


def test_cel_syntax_error(tmp_path):
    text = RULE.format(condition=">-\n      candidate.metrics.roc_auc >=")
    assert load_error(tmp_path, text).startswith(
        "policies/q.yaml:5 rule 'min-auc' condition: syntax error at column"
    )


def test_cel_type_error_is_found_when_the_file_loads(tmp_path):
    text = RULE.format(condition="candidate.metrics.roc_auc >= '0.8'")
    assert load_error(tmp_path, text).startswith(
        "policies/q.yaml:4 rule 'min-auc' condition: type error"
    )


def test_condition_must_return_a_bool(tmp_path):
    text = RULE.format(condition="candidate.metrics.roc_auc")
    assert load_error(tmp_path, text) == (
        "policies/q.yaml:4 rule 'min-auc' condition: returned 0.5 "
        "(float); a condition must return a bool"
    )


def test_unknown_variable(tmp_path):
    text = RULE.format(condition="candiate.metrics.roc_auc > 0.5")
    assert load_error(tmp_path, text).startswith(
        "policies/q.yaml:4 rule 'min-auc' condition: unknown variable "
        "'candiate'; the bundle has: schema_version"
    )


def test_unset_vars_key(tmp_path):
    text = RULE.format(condition="candidate.metrics.roc_auc > vars.min")
    assert load_error(tmp_path, text) == (
        "policies/q.yaml:4 rule 'min-auc' condition: reads vars.min but 'vars' has no 'min'"
    )


def test_message_type_error(tmp_path):
    text = RULE.format(condition="true").replace(
        "auc {{ candidate.metrics.roc_auc }}", "{{ onnx.max_abs_diff + 1 }}"
    )
    assert load_error(tmp_path, text).startswith(
        "policies/q.yaml:6 rule 'min-auc' message: type error"
    )


def test_requires_must_be_field_paths(tmp_path):
    text = RULE.format(condition="true") + "    requires: [candidate.metrics.roc_auc > 1.0]\n"
    assert load_error(tmp_path, text) == (
        "policies/q.yaml:7 rule 'min-auc' requires: 'candidate.metrics.roc_auc > 1.0' "
        "is not a field path such as candidate.metrics.f1"
    )


def test_duplicate_ids_across_files(tmp_path):
    folder = write(tmp_path / "policies", "a.yaml", RULE.format(condition="true"))
    write(folder, "b.yaml", RULE.format(condition="false"))
    with pytest.raises(PolicyError) as err:
        load_policy_set(folder)
    assert str(err.value) == (
        "policies/b.yaml:2 rule 'min-auc': duplicate id; first defined "
        "at policies/a.yaml:2; rule ids must be unique"
    )


def test_unknown_rule_kind(tmp_path):
    text = RULE.format(condition="true") + "    kind: rego\n"
    assert load_error(tmp_path, text) == "unknown rule kind 'rego'; known: cel"


class AlwaysKind:
    """A rule kind whose condition is a constant."""

    def compile(self, rule, spot):
        return AlwaysCheck(rule.condition == "always")


class AlwaysCheck:
    reads = ()

    def __init__(self, value):
        self.value = value

    def evaluate(self, activation):
        return self.value


def test_rule_kinds_plug_in_through_entry_points(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist = site / "always_kind-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: always-kind\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[mlops_gitops.rules]\nalways = always_kind:AlwaysKind\n"
    )
    (site / "always_kind.py").write_text(
        "from tests.policies.test_policy_rules import AlwaysKind\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(RULE_KINDS, "always", raising=False)
    text = RULE.format(condition="always") + "    kind: always\n"
    policy_set = load_policy_set(write(tmp_path / "policies", "q.yaml", text))
    assert policy_set.rules[0].check.evaluate(None) is True
    assert "always" in RULE_KINDS
    RULE_KINDS.pop("always")


@pytest.mark.parametrize(
    ("severity", "env", "expected"),
    [
        ("warn", "prod", "warn"),
        ({"prod": "block", "default": "warn"}, "prod", "block"),
        ({"prod": "block", "default": "warn"}, None, "warn"),
        ({"prod": "block"}, "dev", None),
    ],
)
def test_severity_per_environment(severity, env, expected):
    rule = Rule(id="r", description="d", condition="true", severity=severity, message="m")
    assert rule.severity_for(env) == expected


def test_policy_file_schema_is_published():
    assert "rules" in rule_fields()["properties"]
