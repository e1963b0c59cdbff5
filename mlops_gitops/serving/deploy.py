"""Deploy an environment: verify its artifacts, render its resources, run it locally.

``deploy`` is what the deploy workflow runs after a manifest change lands. It
acts on the committed manifest (``HEAD``) and refuses to run while the work
tree's copy has uncommitted changes; that one text is read once and used for
every step:

1. verify every pinned artifact: its (path, md5) equals its version's
   registration (always), its bytes fetched by content hash and re-hashed here,
   and (by default) the registry's ``verify`` (tag not moved, present in the
   DVC remote);
2. render and validate the Kubernetes resources and Dockerfile
   (``deploy/<env>/``) for a GitOps controller to apply;
3. on the local default, reload the running local server (SIGHUP, found by
   its pid file) and wait for the reload's outcome, or start one and wait
   until it is ready.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlops_gitops import pipeline, scm
from mlops_gitops.errors import PipelineError
from mlops_gitops.manifests.conventions import manifest_path
from mlops_gitops.serving.kube import Rendered, render_plan
from mlops_gitops.serving.model import ServingError, verify_md5
from mlops_gitops.serving.plan import RegistryCheck, ServingPlan, read_registered_plan
from mlops_gitops.serving.server import RunningServer, find_running, pid_file, signal_reload

Start = Literal["local", "none"]
READY_SECONDS = 120.0


@dataclass(frozen=True)
class VerifiedArtifact:
    """A pinned artifact whose bytes matched its hash."""

    model: str
    version: str
    path: str
    md5: str


@dataclass(frozen=True, kw_only=True)
class DeployReport:
    """What ``deploy`` checked, rendered and did to the local server."""

    env: str
    artifacts: tuple[VerifiedArtifact, ...]
    registry_checks: int
    rendered: Rendered
    action: Literal["started", "reloaded", "none"]
    server: RunningServer | None


def read_committed_plan(root: str | os.PathLike[str], env: str) -> ServingPlan:
    """Return the plan of ``env``'s committed manifest, its pins checked against the registry.

    Raises:
        ServingError: the work tree's manifest differs from the committed one.
        ManifestError: the committed manifest is missing or not valid.
        RegistryError: a pin differs from its version's registration.
    """
    rel = manifest_path(env)
    head = scm.rev_parse("HEAD", root)
    path = Path(root) / rel
    worktree = path.read_text(encoding="utf-8") if path.is_file() else None
    if worktree != scm.show_file(head, rel, root):
        raise ServingError(
            f"{rel} has uncommitted changes; deploy acts on the committed manifest only: "
            f"commit them, or run 'git restore {rel}'"
        )
    return read_registered_plan(root, env, rev=head)


def verify_artifacts(plan: ServingPlan) -> tuple[VerifiedArtifact, ...]:
    """Fetch every artifact ``plan`` pins by hash and check its bytes.

    Raises:
        ServingError: an artifact is missing or its bytes differ from the pinned hash.
    """
    verified = []
    for model in plan.models:
        for variant in model.variants:
            what = f"{model.name}@{variant.version}"
            try:
                path = pipeline.fetch_object(plan.root, variant.md5)
            except PipelineError as exc:
                raise ServingError(f"{what}: cannot fetch {variant.path}") from exc
            verify_md5(path, variant.md5, what=what)
            verified.append(
                VerifiedArtifact(model.name, variant.version, variant.path, variant.md5)
            )
    return tuple(verified)


def deploy(
    root: str | os.PathLike[str],
    env: str,
    *,
    start: Start = "local",
    registry: RegistryCheck = "required",
    address: tuple[str, int] = ("127.0.0.1", 8080),
) -> DeployReport:
    """Verify, render and (locally) start or reload the server of ``env``.

    Raises:
        ServingError: the manifest has uncommitted changes, an artifact does not verify,
            or the local server failed to load it.
        RegistryError: a pin differs from its registration, or the registry's checks failed.
    """
    root_path = Path(root).resolve()
    plan = read_committed_plan(root_path, env)
    artifacts = verify_artifacts(plan)
    checks = _registry_checks(root_path, env) if registry == "required" else 0
    rendered = render_plan(plan)
    if start == "none":
        return DeployReport(
            env=env,
            artifacts=artifacts,
            registry_checks=checks,
            rendered=rendered,
            action="none",
            server=None,
        )
    running = find_running(root_path, env)
    if running is not None:
        reload_local(running)
        return DeployReport(
            env=env,
            artifacts=artifacts,
            registry_checks=checks,
            rendered=rendered,
            action="reloaded",
            server=running,
        )
    server = start_local(root_path, env, address)
    return DeployReport(
        env=env,
        artifacts=artifacts,
        registry_checks=checks,
        rendered=rendered,
        action="started",
        server=server,
    )


def _registry_checks(root: Path, env: str) -> int:
    from mlops_gitops.registry import RegistryError, verify

    report = verify(root, env=env)
    failed = [f for f in report.findings if not f.ok]
    if failed:
        first = failed[0]
        raise RegistryError(
            f"{first.model}@{first.version} in '{env}': {first.check} check failed: {first.detail}"
        )
    return len(report.findings)


def reload_local(server: RunningServer, *, deadline: float = READY_SECONDS) -> None:
    """SIGHUP a local server and wait for the reload's outcome.

    Raises:
        ServingError: the reload failed (the server keeps its old models) or timed out.
    """
    import httpx

    sent = time.time()
    signal_reload(server)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            last = httpx.get(f"{server.url}/v2/health/ready", timeout=2).json().get("last_reload")
        except (httpx.HTTPError, ValueError):
            last = None
        # any load after the signal: "sighup", or "start" when uvicorn restarted its workers
        if last and last.get("at", 0) >= sent:
            if not last.get("ok"):
                raise ServingError(f"the local server kept its old models: {last.get('error')}")
            return
        time.sleep(0.1)
    raise ServingError(
        f"the local server at {server.url} did not report a reload in {deadline:.0f} s"
    )


def start_local(
    root: Path, env: str, address: tuple[str, int], *, deadline: float = READY_SECONDS
) -> RunningServer:
    """Start ``mlops serve`` in the background and wait until it is ready.

    Raises:
        ServingError: the server exited or did not become ready in time.
    """
    host, port = address
    log = pid_file(root, env).with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "mlops_gitops",
        "serve",
        "--env",
        env,
        "--host",
        host,
        "--port",
        str(port),
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _wait_ready(proc, f"http://{host}:{port}/v2/health/ready", log, deadline)
    return RunningServer(proc.pid, host, port, env)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, deadline: float) -> None:
    import httpx

    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise ServingError(f"the local server exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise ServingError(f"the local server did not become ready in {deadline:.0f} s; see {log}")
