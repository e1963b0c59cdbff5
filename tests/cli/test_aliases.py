"""The ``mlops NOUN VERB`` forms and the earlier top-level aliases run the same commands."""

from __future__ import annotations

import json

import click
import pytest

from mlops_gitops.cli import ALIASES, cli, resolve_alias


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_each_alias_is_the_very_command_of_its_noun_verb_form(alias):
    command = cli.get_command(click.Context(cli), alias)
    assert command is resolve_alias(alias)
    noun, *verbs = ALIASES[alias]
    target = cli.get_command(click.Context(cli), noun)
    for verb in verbs:
        assert isinstance(target, click.Group)
        target = target.get_command(click.Context(target), verb)
    assert command is target


def test_help_lists_nouns_as_commands_and_the_aliases_apart():
    ctx = click.Context(cli)
    assert set(ALIASES).isdisjoint(cli.list_commands(ctx))
    text = cli.get_help(ctx)
    assert "Aliases" in text and "= mlops policy gate" in text


def test_params_and_project_params_print_the_same(cli, project):
    old, new = cli("params", "--section", "data"), cli("project", "params", "--section", "data")
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout and json.loads(new.stdout)


def test_status_and_registry_status_print_the_same_json(cli, project):
    old, new = cli("status", "--json"), cli("registry", "status", "--json")
    assert (old.exit_code, old.stdout) == (new.exit_code, new.stdout)


def test_gate_and_policy_gate_fail_alike_on_a_bad_option(cli, project):
    old = cli("gate", "--bundle", "missing.json", "--replay", "abc")
    new = cli("policy", "gate", "--bundle", "missing.json", "--replay", "abc")
    assert old.exit_code == new.exit_code == 2
    assert old.stderr.replace("mlops gate", "mlops policy gate") == new.stderr


def test_every_json_output_is_the_one_renderers(cli, project):
    from mlops_gitops.cli.output import render_json

    for args in (("registry", "list", "--json"), ("policy", "schema"), ("status", "--json")):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout == render_json(json.loads(result.stdout)) + "\n", args
