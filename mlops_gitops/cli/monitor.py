"""``mlops monitoring run|replay|receiver`` (``mlops monitor`` is an alias of the group).

Monitoring runs, the traffic replayer and a local alert receiver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlops_gitops.cli.options import ROOT_OPTION, json_option
from mlops_gitops.cli.output import echo_json, echo_table

if TYPE_CHECKING:
    from mlops_gitops.monitoring.receiver import ReceivedAlert
    from mlops_gitops.monitoring.run import MonitoringRun


def _run_options(function: Any) -> Any:
    function = json_option("Print the run as JSON.")(function)
    function = click.option(
        "--no-write", is_flag=True, help="Measure and alert, but write nothing to the history."
    )(function)
    function = ROOT_OPTION(function)
    function = click.option(
        "--window", help="Window to monitor, e.g. 24h (default: the manifest's)."
    )(function)
    return click.option("--env", "env", help="The environment (envs/ENV.yaml).")(function)


@click.group(invoke_without_command=True)
@_run_options
@click.pass_context
def monitor(
    ctx: click.Context,
    *,
    env: str | None,
    window: str | None,
    root: Path,
    no_write: bool,
    as_json: bool,
) -> None:
    """Monitor an environment: drift, performance, health score and alerts.

    `mlops monitoring --env prod` is `mlops monitoring run --env prod`.
    """
    if ctx.invoked_subcommand is not None:
        return
    if env is None:
        raise click.UsageError("give --env ENV, or a sub-command (run, replay, receiver)")
    _monitor_env(env, window, root, no_write=no_write, as_json=as_json)


@monitor.command("run")
@_run_options
def run_command(
    *, env: str | None, window: str | None, root: Path, no_write: bool, as_json: bool
) -> None:
    """Compare the window's traffic with the deployed versions' reference data."""
    if env is None:
        raise click.UsageError("missing option '--env'")
    _monitor_env(env, window, root, no_write=no_write, as_json=as_json)


def _monitor_env(
    env: str, window: str | None, root: Path, *, no_write: bool, as_json: bool
) -> None:
    from mlops_gitops.monitoring.alerts import raise_for_failed
    from mlops_gitops.monitoring.config import parse_duration
    from mlops_gitops.monitoring.run import run_monitoring

    try:
        span = parse_duration(window) if window else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--window'") from exc
    result = run_monitoring(env, root=root, window=span, write=not no_write)
    if as_json:
        from mlops_gitops.monitoring.history import to_jsonable

        echo_json({**to_jsonable(result), "status": result.status, "score": result.score})
    else:
        _render(result)
    raise_for_failed(result.alerts)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _render(run: MonitoringRun) -> None:
    click.echo(
        f"{run.env}: {run.status}, window {run.window}, health {_fmt(run.score)} "
        f"({run.timestamp:%Y-%m-%d %H:%M:%S} UTC)"
    )
    rows = []
    for m in run.models:
        drift = m.result.drift
        drifted = "-" if drift is None else f"{drift.drifted_count}/{len(drift.features)}"
        label = "no traffic" if m.result.status == "no traffic" else m.health.band
        rows.append((m.key, m.result.version, m.result.rows, _fmt(m.health.score), label, drifted))
    if rows:
        echo_table(("model", "version", "rows", "health", "band", "drifted"), rows)
    for outcome in run.alerts:
        sent = ", ".join(f"{d.channel}: {d.status}" for d in outcome.deliveries) or "no channel"
        click.echo(f"alert {outcome.alert.title} -> {sent}")
    for path in run.files:
        click.echo(f"wrote {path}")


@monitor.command()
@click.option("--env", "env", help="Environment whose first model is replayed (or give --model).")
@click.option(
    "--url", required=True, help="Base URL of the running server, e.g. http://127.0.0.1:8080."
)
@click.option("--model", help="Model name (default: the first model of the environment).")
@click.option("--drift", type=float, default=1.0, show_default=True, help="0 = reference period.")
@click.option("--rows", type=int, default=2000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--batch", type=int, default=50, show_default=True, help="Rows per request.")
@click.option(
    "--data",
    help="CSV or Parquet file (or URL) of later rows to send instead of the sample's "
    "(its data.label column goes back as feedback).",
)
@click.option("--token-env", help="Environment variable holding the server's bearer token.")
@ROOT_OPTION
@json_option()
def replay(
    *,
    env: str | None,
    url: str,
    model: str | None,
    drift: float,
    rows: int,
    seed: int,
    batch: int,
    data: str | None,
    token_env: str | None,
    root: Path,
    as_json: bool,
) -> None:
    """Send the sample's drifted later period (or a file's rows) to a server, then the labels."""
    import os

    from mlops_gitops.monitoring.replay import replay_for_env

    token = os.environ.get(token_env) if token_env else None
    result = replay_for_env(
        url, env=env, model=model, root=root, rows=rows, drift=drift, seed=seed, batch=batch,
        data=data, token=token,
    )  # fmt: skip
    if as_json:
        echo_json(result)
        return
    origin = f"drift {result.drift:g}" if result.drift is not None else f"from {result.source}"
    click.echo(
        f"replayed {result.rows} rows ({origin}) to {result.model} at {result.url}: "
        f"{result.requests} requests, {result.failed} failed, {result.labels} labels recorded"
    )


@monitor.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=9000, show_default=True)
@click.option("--secret-env", help="Environment variable with the HMAC secret to verify.")
@click.option("--count", type=int, help="Exit after this many alerts (default: run until Ctrl-C).")
@click.option("--timeout", type=float, help="With --count: fail when they do not arrive in time.")
def receiver(
    *, host: str, port: int, secret_env: str | None, count: int | None, timeout: float | None
) -> None:
    """Run a local webhook receiver that prints alerts and verifies their HMAC."""
    import os

    from mlops_gitops.monitoring.receiver import AlertReceiver

    secret = os.environ.get(secret_env) if secret_env else None
    if secret_env and not secret:
        raise click.UsageError(f"environment variable {secret_env} is not set")
    with AlertReceiver(host=host, port=port, secret=secret, on_alert=_print_alert) as running:
        click.echo(f"listening on {running.url} (signature check: {'on' if secret else 'off'})")
        running.wait(count, timeout)


def _print_alert(item: ReceivedAlert) -> None:
    body = item.body
    title = body.get("title") or body.get("text") or str(body)
    check = {True: "signature verified", False: "SIGNATURE INVALID", None: "unsigned"}[
        item.verified
    ]
    click.echo(f"received {title} ({check})")
