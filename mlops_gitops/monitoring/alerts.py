"""Alert rules: evaluation, cooldowns kept in a state file, delivery with retries.

A rule fires for a model when ``indicator op threshold`` holds for the
indicator value measured over the rule's window; a missing indicator never
fires. A fired rule is delivered to each of its channels unless that channel
already delivered the same rule for the same model within ``cooldown``
(``suppressed``). A failing channel is retried ``retry.attempts`` times with
exponential backoff (``backoff * 2**k``, at most ``max_backoff``); if every
attempt fails the delivery is ``failed``, reported, and tried again on the
next run whatever the cooldown, since nothing was sent.

The state (``<history>/<env>/state.json``) is a JSON object::

    {"version": 1,
     "alerts": {"<rule>/<model>": {
         "active": true, "first_fired": "<iso>", "last_fired": "<iso>", "value": 0.42,
         "channels": {"<channel>": {"last_sent": "<iso>|null", "last_error": "...|null",
                                    "attempts": 3}}}}}
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mlops_gitops.monitoring.channels import (
    Alert,
    AlertChannel,
    ChannelContext,
    ChannelError,
    build_channel,
)
from mlops_gitops.monitoring.config import AlertRule, MonitoringConfig, RetryConfig, format_duration

STATE_VERSION = 1
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

DeliveryStatus = Literal["sent", "suppressed", "failed"]


@dataclass(frozen=True)
class Delivery:
    """What happened to one alert on one channel."""

    channel: str
    status: DeliveryStatus
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True)
class AlertOutcome:
    """One fired rule for one model and its deliveries."""

    alert: Alert
    deliveries: tuple[Delivery, ...]

    @property
    def failed(self) -> bool:
        """Return whether a channel failed to deliver."""
        return any(d.status == "failed" for d in self.deliveries)


def rule_fires(rule: AlertRule, indicators: Mapping[str, float]) -> bool:
    """Return whether ``rule`` holds on ``indicators`` (False when its indicator is absent)."""
    value = indicators.get(rule.indicator)
    return value is not None and _OPERATORS[rule.op](value, rule.threshold)


def deliver(
    channel: AlertChannel,
    alert: Alert,
    *,
    name: str,
    retry: RetryConfig,
    sleep: Callable[[float], object],
) -> Delivery:
    """Send ``alert`` through ``channel`` with bounded exponential backoff."""
    delay = retry.backoff.total_seconds()
    error = ""
    for attempt in range(1, retry.attempts + 1):
        try:
            channel.send(alert)
        except ChannelError as exc:
            error = str(exc)
            if attempt < retry.attempts:
                sleep(min(delay, retry.max_backoff.total_seconds()))
                delay *= 2
            continue
        return Delivery(name, "sent", attempt)
    return Delivery(name, "failed", retry.attempts, error)


class AlertDeliveryError(ChannelError):
    """At least one fired alert could not be delivered on one of its channels."""


def raise_for_failed(outcomes: Sequence[AlertOutcome]) -> None:
    """Raise :class:`AlertDeliveryError` naming every failed delivery, if any."""
    failed = [
        f"{o.alert.rule}/{o.alert.model} -> {d.channel} ({d.error})"
        for o in outcomes
        for d in o.deliveries
        if d.status == "failed"
    ]
    if failed:
        raise AlertDeliveryError(
            f"alert delivery failed after retries: {'; '.join(failed)}; "
            "the run is recorded and the delivery is retried on the next run"
        )


def state_key(rule: str, model: str) -> str:
    """Return the key of a rule and model in the state file."""
    return f"{rule}/{model}"


def _in_cooldown(channel_state: Mapping[str, Any], rule: AlertRule, now: datetime) -> bool:
    last = channel_state.get("last_sent")
    if not last:
        return False
    return now - datetime.fromisoformat(str(last)) < rule.cooldown


@dataclass(frozen=True)
class FiredRule:
    """A rule that holds for one model, before delivery."""

    rule: AlertRule
    model: str
    version: str
    value: float


def evaluate_rules(
    rules: Iterable[AlertRule], model: str, version: str, indicators: Mapping[str, float]
) -> list[FiredRule]:
    """Return the rules that fire on one model's indicators."""
    return [
        FiredRule(rule, model, version, indicators[rule.indicator])
        for rule in rules
        if rule_fires(rule, indicators)
    ]


def dispatch(
    fired: Sequence[FiredRule],
    state: dict[str, Any],
    *,
    config: MonitoringConfig,
    env: str,
    now: datetime,
    context: ChannelContext,
    sleep: Callable[[float], object],
    report: str = "",
) -> list[AlertOutcome]:
    """Deliver fired rules, honouring cooldowns; update ``state`` in place."""
    alerts = state.setdefault("alerts", {})
    state["version"] = STATE_VERSION
    fired_keys = {state_key(f.rule.id, f.model) for f in fired}
    for key, entry in alerts.items():
        if key not in fired_keys:
            entry["active"] = False
    outcomes = []
    for item in fired:
        alert = _alert_of(item, config=config, env=env, now=now, report=report)
        entry = _touch_entry(alerts, item, now)
        deliveries = []
        for name in item.rule.channels:
            channel_state = entry["channels"].setdefault(name, {})
            if _in_cooldown(channel_state, item.rule, now) and not channel_state.get("last_error"):
                deliveries.append(Delivery(name, "suppressed"))
                continue
            delivery = _deliver_named(name, alert, config=config, context=context, sleep=sleep)
            _record(channel_state, delivery, now)
            deliveries.append(delivery)
        outcomes.append(AlertOutcome(alert, tuple(deliveries)))
    return outcomes


def _deliver_named(
    name: str,
    alert: Alert,
    *,
    config: MonitoringConfig,
    context: ChannelContext,
    sleep: Callable[[float], object],
) -> Delivery:
    try:
        channel = build_channel(name, config.channels[name], context)
    except ChannelError as exc:
        return Delivery(name, "failed", 0, str(exc))
    return deliver(channel, alert, name=name, retry=config.retry, sleep=sleep)


def _touch_entry(alerts: dict[str, Any], item: FiredRule, now: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = alerts.setdefault(state_key(item.rule.id, item.model), {})
    if not entry.get("active"):
        entry["first_fired"] = now.isoformat()
    entry.update(active=True, last_fired=now.isoformat(), value=item.value)
    entry.setdefault("channels", {})
    return entry


def _record(channel_state: dict[str, Any], delivery: Delivery, now: datetime) -> None:
    channel_state["attempts"] = delivery.attempts
    if delivery.status == "sent":
        channel_state.update(last_sent=now.isoformat(), last_error=None)
    else:
        channel_state["last_error"] = delivery.error


def _alert_of(
    item: FiredRule, *, config: MonitoringConfig, env: str, now: datetime, report: str
) -> Alert:
    rule = item.rule
    return Alert(
        rule=rule.id,
        env=env,
        model=item.model,
        version=item.version,
        priority=rule.priority,
        indicator=rule.indicator,
        op=rule.op,
        threshold=rule.threshold,
        value=item.value,
        window=format_duration(rule.window or config.window),
        fired_at=now.isoformat(),
        description=rule.description,
        report=report,
    )
