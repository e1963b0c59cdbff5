"""Alert channels against real local receivers: HTTP webhooks, SMTP, a forge fake."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mlops_gitops.monitoring.alerts import FiredRule, deliver, dispatch
from mlops_gitops.monitoring.channels import (
    Alert,
    ChannelContext,
    ChannelError,
    EmailChannel,
    ForgeIssueChannel,
    SlackChannel,
    WebhookChannel,
    build_channel,
)
from mlops_gitops.monitoring.config import ChannelConfig, MonitoringConfig, RetryConfig
from mlops_gitops.monitoring.receiver import AlertReceiver
from tests.helpers.monitoring import NOW, SmtpSink

ALERT = Alert(
    rule="data-drift", env="prod", model="credit-default", version="v1.0.0", priority="P2",
    indicator="drift.share", op=">=", threshold=0.3, value=0.67, window="24h",
    fired_at=NOW.isoformat(),
)  # fmt: skip
SECRET_ENV = {"HOOK_KEY": "s3cret"}


class FakeForge:
    """An issue tracker of the forge Protocol that keeps the issues it was asked to open."""

    def __init__(self) -> None:
        self.issues: list[tuple[str, str, list[str]]] = []

    def open_issue(self, title: str, body: str, labels: Sequence[str]) -> str:
        self.issues.append((title, body, list(labels)))
        return f"issue-{len(self.issues)}"


def test_webhook_posts_json_signed_with_hmac(receiver: AlertReceiver) -> None:
    config = ChannelConfig(type="webhook", url=receiver.url + "/hook", secret_env="HOOK_KEY")
    WebhookChannel("hook", config, ChannelContext(environ=SECRET_ENV)).send(ALERT)
    [got] = receiver.received
    assert got.verified is True
    assert got.body["rule"] == "data-drift" and got.body["priority"] == "P2"
    body = json.dumps(got.body, sort_keys=True).encode()
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert got.signature == expected


def test_webhook_with_a_wrong_secret_is_refused_by_the_receiver(receiver: AlertReceiver) -> None:
    config = ChannelConfig(type="webhook", url=receiver.url, secret_env="HOOK_KEY")
    channel = WebhookChannel("hook", config, ChannelContext(environ={"HOOK_KEY": "wrong"}))
    with pytest.raises(ChannelError, match="answered 401"):
        channel.send(ALERT)
    assert receiver.received[0].verified is False


def test_webhook_secret_variable_must_be_set(receiver: AlertReceiver) -> None:
    config = ChannelConfig(type="webhook", url=receiver.url, secret_env="HOOK_KEY")
    with pytest.raises(ChannelError, match="HOOK_KEY is not set"):
        WebhookChannel("hook", config, ChannelContext()).send(ALERT)


def test_slack_channel_sends_a_text_body() -> None:
    with AlertReceiver() as slack:
        config = ChannelConfig(type="slack", url_env="SLACK_URL")
        context = ChannelContext(environ={"SLACK_URL": slack.url + "/services/x"})
        SlackChannel("chat", config, context).send(ALERT)
    [got] = slack.received
    assert list(got.body) == ["text"]
    assert "[P2] prod/credit-default: data-drift" in got.body["text"]


def test_email_channel_sends_over_smtp(smtp_server: tuple[int, SmtpSink]) -> None:
    port, sink = smtp_server
    config = ChannelConfig(
        type="email", host="127.0.0.1", port=port, sender="mlops@example.com",
        to=["oncall@example.com"],
    )  # fmt: skip
    EmailChannel("mail", config, ChannelContext()).send(ALERT)
    [message] = sink.messages
    assert message["Subject"].startswith("[P2] prod/credit-default: data-drift")
    assert message["To"] == "oncall@example.com"
    assert "drift.share = 0.67" in message.get_payload()


def test_email_channel_reports_an_unreachable_server() -> None:
    config = ChannelConfig(type="email", host="127.0.0.1", port=9, sender="a@b", to=["c@d"])
    with pytest.raises(ChannelError, match=r"smtp 127\.0\.0\.1:9"):
        EmailChannel("mail", config, ChannelContext()).send(ALERT)


def test_forge_issue_channel_opens_an_issue_with_priority_label() -> None:
    forge = FakeForge()
    channel = ForgeIssueChannel(
        "forge", ChannelConfig(type="forge_issue"), ChannelContext(forge=forge)
    )
    channel.send(ALERT)
    [(title, body, labels)] = forge.issues
    assert title == ALERT.title and "drift.share" in body and labels == ["monitoring", "P2"]


def test_forge_issue_channel_without_forge_fails() -> None:
    channel = ForgeIssueChannel("forge", ChannelConfig(type="forge_issue"), ChannelContext())
    with pytest.raises(ChannelError, match="no forge is configured"):
        channel.send(ALERT)


def test_unknown_channel_type_names_the_known_ones() -> None:
    with pytest.raises(
        ChannelError, match=r"monitoring.channels.x.type: unknown channel type 'pager'; known: "
    ):
        build_channel("x", ChannelConfig(type="pager"), ChannelContext())


def test_failing_channel_is_retried_with_bounded_backoff_then_reported() -> None:
    sleeps: list[float] = []
    with AlertReceiver(fail_with=503) as failing:
        channel = SlackChannel(
            "chat", ChannelConfig(type="slack", url=failing.url), ChannelContext()
        )
        retry = RetryConfig(
            attempts=4, backoff=timedelta(seconds=2), max_backoff=timedelta(seconds=5)
        )
        delivery = deliver(channel, ALERT, name="chat", retry=retry, sleep=sleeps.append)
    assert delivery.status == "failed" and delivery.attempts == 4
    assert "answered 503" in (delivery.error or "")
    assert sleeps == [2.0, 4.0, 5.0]
    assert len(failing.received) == 4


def _config(url: str, bad_url: str) -> MonitoringConfig:
    return MonitoringConfig.model_validate(
        {
            "alerts": [
                {"id": "data-drift", "indicator": "drift.share", "threshold": 0.3,
                 "priority": "P2", "channels": ["hook", "broken"], "cooldown": "6h"},
            ],
            "channels": {
                "hook": {"type": "webhook", "url": url, "secret_env": "HOOK_KEY"},
                "broken": {"type": "slack", "url": bad_url},
            },
            "retry": {"attempts": 2, "backoff": "1s"},
        }
    )  # fmt: skip


def test_cooldown_suppresses_a_repeat_but_a_failed_channel_is_retried(
    receiver: AlertReceiver,
) -> None:
    with AlertReceiver(fail_with=500) as broken:
        config = _config(receiver.url, broken.url)
        fired = [FiredRule(config.alerts[0], "credit-default", "v1.0.0", 0.5)]
        state: dict[str, object] = {}
        context = ChannelContext(environ=SECRET_ENV)
        kwargs = {"config": config, "env": "prod", "context": context, "sleep": lambda _: None}
        first = dispatch(fired, state, now=NOW, **kwargs)  # type: ignore[arg-type]
        second = dispatch(fired, state, now=NOW + timedelta(hours=1), **kwargs)  # type: ignore[arg-type]
        third = dispatch(fired, state, now=NOW + timedelta(hours=7), **kwargs)  # type: ignore[arg-type]
    assert [(d.channel, d.status) for d in first[0].deliveries] == [
        ("hook", "sent"),
        ("broken", "failed"),
    ]
    assert [(d.channel, d.status) for d in second[0].deliveries] == [
        ("hook", "suppressed"),
        ("broken", "failed"),
    ]
    assert [d.status for d in third[0].deliveries] == ["sent", "failed"]
    assert len(receiver.received) == 2
    assert len(broken.received) == 6
    entry = state["alerts"]["data-drift/credit-default"]  # type: ignore[index]
    assert entry["channels"]["hook"]["last_sent"] == (NOW + timedelta(hours=7)).isoformat()
    assert "answered 500" in entry["channels"]["broken"]["last_error"]


def test_rule_that_stops_firing_becomes_inactive(receiver: AlertReceiver) -> None:
    config = _config(receiver.url, receiver.url)
    fired = [FiredRule(config.alerts[0], "credit-default", "v1.0.0", 0.5)]
    state: dict[str, object] = {}
    context = ChannelContext(environ=SECRET_ENV)
    dispatch(
        fired, state, config=config, env="prod", now=NOW, context=context, sleep=lambda _: None
    )
    dispatch([], state, config=config, env="prod", now=NOW, context=context, sleep=lambda _: None)
    assert state["alerts"]["data-drift/credit-default"]["active"] is False  # type: ignore[index]


def test_unknown_forge_is_a_reported_channel_failure(tmp_path: Path) -> None:
    from mlops_gitops.monitoring.run import ForgeIssues

    forge = ForgeIssues(tmp_path, {"MLOPS_FORGE": "nowhere"})
    config = ChannelConfig(type="forge_issue")
    channel = ForgeIssueChannel("forge", config, ChannelContext(forge=forge))
    with pytest.raises(ChannelError, match=r"refused the issue \(unknown forge 'nowhere'"):
        channel.send(ALERT)


def test_forge_issue_channel_opens_a_github_issue_through_the_forge_backend(
    tmp_path: Path,
) -> None:
    from mlops_gitops.monitoring.run import ForgeIssues
    from tests.forge.emulator import GitHubEmulator, Identity
    from tests.helpers import run

    bare = tmp_path / "hosted.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], tmp_path)
    tokens = {"ghs_actions": Identity("github-actions[bot]", 41898282, "installation")}
    with GitHubEmulator(bare, tokens=tokens) as emulator:
        environ = {
            "MLOPS_FORGE": "github",
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_TOKEN": "ghs_actions",
            "GITHUB_API_URL": emulator.api_url,
        }
        context = ChannelContext(environ=environ, forge=ForgeIssues(tmp_path, environ))
        build_channel("forge", ChannelConfig(type="forge_issue"), context).send(ALERT)
    [issue] = emulator.state.issues.values()
    assert emulator.schema_errors == []
    assert (issue.title, issue.labels) == (ALERT.title, ["monitoring", "P2"])
    assert issue.body is not None and "indicator: drift.share = 0.67" in issue.body


def test_forge_issue_channel_commits_an_issue_to_the_local_forge(
    git_repo: Path, cli: Callable[..., Any]
) -> None:
    from mlops_gitops.monitoring.run import ForgeIssues
    from tests.helpers import run

    forge = git_repo.parent / "forge.git"
    assert cli("forge", "init", str(forge)).exit_code == 0
    run(["git", "remote", "add", "origin", str(forge)], git_repo)
    environ = {"MLOPS_FORGE": "local"}
    context = ChannelContext(environ=environ, forge=ForgeIssues(git_repo, environ))
    config = ChannelConfig(type="forge_issue", labels=["monitoring", "credit"])
    build_channel("forge", config, context).send(ALERT)

    assert cli("forge", "track").exit_code == 0
    run(["git", "fetch", "-q", "origin"], git_repo)
    listed = cli("forge", "issues", "--json")
    [issue] = json.loads(listed.stdout)
    assert (issue["number"], issue["title"]) == (1, ALERT.title)
    assert issue["labels"] == ["monitoring", "credit", "P2"] and "window: 24h" in issue["body"]
