"""A whole monitoring run of an environment: history files, trend, alerts, gauges."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from mlops_gitops.monitoring.channels import ChannelContext
from mlops_gitops.monitoring.config import MonitoringConfig
from mlops_gitops.monitoring.receiver import AlertReceiver
from mlops_gitops.monitoring.run import run_monitoring
from mlops_gitops.monitoring.window import Reference
from tests.helpers.monitoring import NOW, make_frame, write_feedback, write_log

MD5 = "0123456789abcdef0123456789abcdef"


def write_project(root: Path, hook_url: str, monitoring_extra: str = "") -> None:
    """Write envs/ with a prod manifest that serves credit-default and alerts on drift."""
    (root / "envs").mkdir(parents=True, exist_ok=True)
    (root / "envs/environments.yaml").write_text("environments:\n  prod:\n    feeds: []\n")
    (root / "envs/prod.yaml").write_text(
        f"""\
models:
  credit-default:
    version: v1.0.0
    artifact: {{path: models/model.onnx, md5: {MD5}}}
serving:
  prediction_log: {{path: logs/prod}}
monitoring:
  window: 24h
  alerts:
    - id: data-drift
      indicator: drift.share
      op: ">="
      threshold: 0.3
      priority: P2
      channels: [hook]
      cooldown: 6h
    - id: no-traffic
      indicator: traffic.rows
      op: "<"
      threshold: 1
      priority: P3
      channels: [hook]
  channels:
    hook: {{type: webhook, url: "{hook_url}", secret_env: HOOK_KEY}}
{monitoring_extra}"""
    )


def resolve(root: Path, model: str, version: str, config: MonitoringConfig) -> Reference:
    """Resolve the reference of a version without a registry: a known frame."""
    return Reference(
        model=model,
        version=version,
        frame=make_frame(3000, seed=1),
        label="default",
        test_metrics={"accuracy": 0.9},
        source="frame",
    )


def _run(root: Path, receiver: AlertReceiver, **kwargs: object) -> object:
    context = ChannelContext(environ={"HOOK_KEY": "s3cret"})
    return run_monitoring(
        "prod",
        root=root,
        resolve=resolve,
        context=context,
        sleep=lambda _: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_quiet_window_writes_history_and_sends_nothing(
    tmp_path: Path, receiver: AlertReceiver
) -> None:
    write_project(tmp_path, receiver.url)
    write_log(
        tmp_path / "logs/prod/credit-default",
        make_frame(800, seed=2),
        start=NOW - timedelta(hours=2),
    )
    run = _run(tmp_path, receiver, now=NOW)
    assert run.status == "ok" and run.alerts == ()  # type: ignore[attr-defined]
    assert receiver.received == []
    folder = tmp_path / "monitoring/prod"
    assert (folder / "runs/2026-01/20260115T120000Z.json").exists()
    assert (
        (folder / "runs/2026-01/20260115T120000Z.md").read_text().startswith("# Monitoring: prod")
    )
    [line] = (folder / "history.jsonl").read_text().splitlines()
    summary = json.loads(line)
    assert summary["status"] == "ok" and summary["run"] == "runs/2026-01/20260115T120000Z.json"
    assert summary["health"]["credit-default"] > 80
    prom = (folder / "metrics.prom").read_text()
    assert 'mlops_monitoring_health_score{env="prod",model="credit-default"}' in prom


def test_drifted_window_delivers_one_alert_and_respects_cooldown(
    tmp_path: Path, receiver: AlertReceiver
) -> None:
    write_project(tmp_path, receiver.url)
    folder = tmp_path / "logs/prod/credit-default"
    current = make_frame(800, seed=2, shift=1.0)
    logged = write_log(folder, current, start=NOW - timedelta(hours=2))
    write_feedback(folder, logged, current["default"].to_numpy(), NOW)
    first = _run(tmp_path, receiver, now=NOW)
    second = _run(tmp_path, receiver, now=NOW + timedelta(hours=1))
    assert first.status == "alerting"  # type: ignore[attr-defined]
    [outcome] = first.alerts  # type: ignore[attr-defined]
    assert outcome.alert.rule == "data-drift" and outcome.deliveries[0].status == "sent"
    assert [d.status for d in second.alerts[0].deliveries] == ["suppressed"]  # type: ignore[attr-defined]
    [got] = receiver.received
    assert got.verified is True and got.body["indicator"] == "drift.share"
    assert got.body["report"] == "runs/2026-01/20260115T120000Z.json"
    state = json.loads((tmp_path / "monitoring/prod/state.json").read_text())
    assert state["alerts"]["data-drift/credit-default"]["active"] is True
    trend = second.models[0].health.trend  # type: ignore[attr-defined]
    assert trend is not None and len(trend.scores) == 2


def test_empty_window_is_reported_as_no_traffic(tmp_path: Path, receiver: AlertReceiver) -> None:
    write_project(tmp_path, receiver.url)
    run = _run(tmp_path, receiver, now=NOW, write=False)
    assert run.models[0].result.status == "no traffic"  # type: ignore[attr-defined]
    assert [o.alert.rule for o in run.alerts] == ["no-traffic"]  # type: ignore[attr-defined]
    assert not (tmp_path / "monitoring").exists()


def test_rule_with_its_own_window_is_measured_on_that_window(
    tmp_path: Path, receiver: AlertReceiver
) -> None:
    extra = "    - {id: recent, indicator: traffic.rows, op: '<', threshold: 1, window: 30m}\n"
    text_rules = extra.replace("    - ", "    - ")
    write_project(tmp_path, receiver.url)
    manifest = tmp_path / "envs/prod.yaml"
    manifest.write_text(
        manifest.read_text().replace("  channels:\n", text_rules + "  channels:\n", 1)
    )
    write_log(
        tmp_path / "logs/prod/credit-default",
        make_frame(50, seed=2),
        start=NOW - timedelta(hours=3),
    )
    run = _run(tmp_path, receiver, now=NOW, write=False)
    assert [o.alert.rule for o in run.alerts] == ["recent"]  # type: ignore[attr-defined]


def test_invalid_monitoring_section_names_the_manifest(
    tmp_path: Path, receiver: AlertReceiver
) -> None:
    from mlops_gitops.monitoring.config import MonitoringConfigError

    write_project(tmp_path, receiver.url)
    manifest = tmp_path / "envs/prod.yaml"
    manifest.write_text(manifest.read_text().replace("priority: P2", "priority: P9"))
    with pytest.raises(MonitoringConfigError, match=r"prod.yaml:14 monitoring.alerts.0.priority"):
        _run(tmp_path, receiver, now=NOW)
