"""The demo: the whole loop of the platform on the built-in sample, on one machine.

``run_demo`` scaffolds a project, runs the pipeline, pushes the artifacts to
the local DVC remote, registers the model, promotes it to dev (a branch,
merged as a reviewed pull request would be), serves dev locally, replays the
sample's drifted later period with feedback labels, and runs monitoring,
whose drift alert goes to a signed webhook on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gitops import pipeline, scm
from mlops_gitops.errors import MlopsError
from mlops_gitops.project import init_project
from mlops_gitops.roundtrip import modify_yaml

log = logging.getLogger(__name__)

MODEL = "credit-default"
SECRET_ENV = "MLOPS_WEBHOOK_SECRET"


class DemoError(MlopsError):
    """A step of the demo failed."""


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """What ``run_demo`` produced."""

    path: Path
    remote: Path
    metrics: dict[str, float]
    artifacts: dict[str, str]
    version: str = ""
    server: str = ""
    replayed: int = 0
    alerts: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """Return a short human-readable account of the demo."""
        lines = [f"project:     {self.path}", f"DVC remote:  {self.remote}", "test metrics:"]
        lines += [f"  {k:<12} {v:.4f}" for k, v in sorted(self.metrics.items())]
        lines.append("artifacts (path -> md5):")
        lines += [f"  {k} -> {v}" for k, v in sorted(self.artifacts.items())]
        if self.version:
            lines.append(f"registered:  {MODEL}@{self.version}, promoted to dev")
            lines.append(f"served at:   {self.server} ({self.replayed} drifted rows replayed)")
            lines += [f"alert:       {a}" for a in self.alerts] or ["alert:       none"]
            lines.append(f"history:     {self.path / 'monitoring' / 'dev'}")
        return "\n".join(lines)


def run_demo(
    dest: str | os.PathLike[str], *, rows: int | None = None, loop: bool = True
) -> DemoResult:
    """Scaffold ``dest``, run and push the pipeline; with ``loop``, also serve and monitor it."""
    result = init_project(dest)
    root = result.path
    if rows is not None:
        with modify_yaml(root / "params.yaml") as data:
            data["data"]["sample"]["rows"] = rows
    log.info("running the pipeline (dvc repro) in %s", root)
    pipeline.repro(root, stream=True)
    log.info("pushing the artifacts to %s", result.remote)
    pipeline.push(root)
    scm.commit_all("Run the reference pipeline on the built-in sample", cwd=root)
    metrics = pipeline.read_json(root / "metrics" / "evaluate.json")
    trained = DemoResult(
        path=root,
        remote=result.remote,
        metrics={k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))},
        artifacts={path: out.md5 for path, out in pipeline.read_lock(root).items()},
    )
    return _serve_and_monitor(trained) if loop else trained


def _serve_and_monitor(trained: DemoResult) -> DemoResult:
    from dataclasses import replace

    from mlops_gitops.monitoring.receiver import AlertReceiver

    root = trained.path
    version = _register_and_promote(root)
    secret = secrets.token_hex(16)
    with AlertReceiver(secret=secret) as receiver:
        _configure_alerts(root, receiver.url)
        replayed, server = _serve_and_replay(root)
        alerts = _monitor(root, secret)
        receiver.wait(count=1, timeout=30) if alerts else None
        received = tuple(
            f"{a.body.get('title', a.path)} (signature {'valid' if a.verified else 'INVALID'})"
            for a in receiver.received
        )
    return replace(trained, version=version, server=server, replayed=replayed, alerts=received)


def _register_and_promote(root: Path) -> str:
    from mlops_gitops import registry

    version = registry.register(root, MODEL, bump="minor").version
    log.info("registered %s@%s; promoting it to dev", MODEL, version)
    promotion = registry.promote(root, MODEL, version, to="dev")
    scm.git("merge", "--no-ff", "-q", "-m", f"Merge {promotion.branch}", promotion.branch, cwd=root)
    return version


def _configure_alerts(root: Path, url: str) -> None:
    with modify_yaml(root / "envs" / "dev.yaml") as data:
        data["monitoring"] = {
            "window": "24h",
            "alerts": [
                {
                    "id": "data-drift",
                    "indicator": "drift.max_psi",
                    "op": ">=",
                    "threshold": 0.2,
                    "priority": "P2",
                    "channels": ["local-webhook"],
                }
            ],
            "channels": {
                "local-webhook": {"type": "webhook", "url": url, "secret_env": SECRET_ENV}
            },
        }
    scm.commit_all("Send dev drift alerts to the local webhook receiver", cwd=root)


def _serve_and_replay(root: Path) -> tuple[int, str]:
    from mlops_gitops.monitoring.replay import replay_traffic
    from mlops_gitops.serving.deploy import start_local

    server = start_local(root, "dev", ("127.0.0.1", _free_port()))
    log.info("dev serves at %s; replaying the drifted later period", server.url)
    try:
        replay = replay_traffic(server.url, MODEL, rows=2000, drift=1.0)
    finally:
        _stop(server.pid)
    return replay.rows, server.url


def _monitor(root: Path, secret: str) -> tuple[str, ...]:
    from mlops_gitops.monitoring.channels import ChannelContext
    from mlops_gitops.monitoring.run import run_monitoring

    context = ChannelContext(environ={**os.environ, SECRET_ENV: secret})
    run = run_monitoring("dev", root=root, context=context)
    scm.commit_all("Record the dev monitoring run", cwd=root)
    return tuple(a.alert.rule for a in run.alerts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(pid: int, deadline: float = 30.0) -> None:
    """Stop the local server (it flushes its prediction log on the way out)."""
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return
        time.sleep(0.1)
    raise DemoError(f"the demo server (pid {pid}) did not stop within {deadline:.0f} s")
