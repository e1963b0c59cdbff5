"""``mlops audit``: one success and one failure path."""

from __future__ import annotations

from tests.site.history import History


def test_audit_prints_the_history_as_a_table(built_history: History, cli, monkeypatch):
    monkeypatch.chdir(built_history.path)
    result = cli("audit", "--model", "credit-default", "--kind", "rollback")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "date", "kind", "event", "by", "commit"]
    assert "prod: rolled back to credit-default v1.0.0 (was v1.1.0)" in lines[2]
    assert len(lines) == 3


def test_audit_refuses_an_unknown_kind(built_history: History, cli, monkeypatch):
    monkeypatch.chdir(built_history.path)
    result = cli("audit", "--kind", "promotion")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown event kind 'promotion'; expected one of")
    assert len(result.stderr.strip().splitlines()) == 1
