"""The runner's sandbox: pushed project code runs with no path to the forge.

Every DVC process the local forge's runner starts (``pull``, ``repro``,
``push``: everything that runs a stage's ``cmd``) goes through ``unshare``
(util-linux): new mount and PID namespaces, a fresh ``/proc``, every mount
read-only except the work tree (whose ``.git`` stays read-only) and the
paths the operator names, an empty read-only tmpfs over the forge, and no
capabilities left (``setpriv``), so a stage can neither unmount nor
remount its way out. When the machine cannot build it, the runner refuses
to start (fail closed) unless the operator opts out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlops_gitops.forge.base import ForgeError
from mlops_gitops.pipeline import Launcher, Watch

# Runs as root of the new namespaces, before the stage's code; the paths come in
# the environment (newline-separated), which is cleared before the command starts.
SETUP = r"""set -eu
mount --make-rprivate /
findmnt -n -l -o TARGET | sort -r | while IFS= read -r m; do
  mount -o remount,bind,ro "$m" 2>/dev/null || findmnt -n -o OPTIONS "$m" | grep -q '^ro' || {
    echo "sandbox: cannot make $m read-only" >&2; exit 97; }
done
rw() { mount --bind "$1" "$1" && mount -o remount,bind,rw "$1"; }
printf '%s\n' "$MLOPS_SANDBOX_RW" | while IFS= read -r p; do [ -z "$p" ] || rw "$p"; done
mount --bind "$MLOPS_SANDBOX_WORK/.git" "$MLOPS_SANDBOX_WORK/.git"
mount -o remount,bind,ro "$MLOPS_SANDBOX_WORK/.git"
[ ! -d /dev/shm ] || mount -t tmpfs -o nosuid,nodev mlops-shm /dev/shm
printf '%s\n' "$MLOPS_SANDBOX_HIDE" | while IFS= read -r p; do
  [ -z "$p" ] || mount -t tmpfs -o ro,mode=000,size=4k mlops-hidden "$p"; done
unset MLOPS_SANDBOX_RW MLOPS_SANDBOX_WORK MLOPS_SANDBOX_HIDE
exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
"""
TOOLS = ("unshare", "setpriv", "findmnt", "mount")
# Variables that could lead a stage back to the forge or change what git does there.
SCRUBBED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_QUARANTINE_PATH")
SCRUBBED_PREFIXES = ("GIT_", "MLOPS_FORGE")


@dataclass(frozen=True)
class Sandbox:
    """What the pipeline may see: its work tree (``.git`` read-only), hidden and writable paths."""

    work: Path
    hidden: tuple[Path, ...]
    writable: tuple[Path, ...] = ()

    def command(self) -> tuple[str, ...]:
        """Return the prefix that runs a command inside the sandbox."""
        user = ("--user", "--map-root-user") if os.geteuid() != 0 else ()
        namespaces = ("--mount", "--pid", "--fork", "--kill-child", "--mount-proc")
        return ("unshare", *user, *namespaces, "--", "sh", "-c", SETUP, "mlops-sandbox")

    def environ(self) -> dict[str, str | None]:
        """Return the environment changes: the set-up's paths, private temporary folders."""
        tmp = self.work / ".dvc" / "tmp" / "sandbox"
        changes: dict[str, str | None] = {
            key: None for key in os.environ if key.startswith(SCRUBBED_PREFIXES)
        }
        changes |= {key: None for key in SCRUBBED}
        changes |= {
            "MLOPS_SANDBOX_WORK": str(self.work),
            "MLOPS_SANDBOX_RW": "\n".join(str(p) for p in (self.work, *self.writable)),
            "MLOPS_SANDBOX_HIDE": "\n".join(str(p) for p in self.hidden),
            "TMPDIR": str(tmp),
            "DVC_SITE_CACHE_DIR": str(tmp / "dvc-site-cache"),
        }
        return changes

    def launcher(self, watch: Watch | None = None) -> Launcher:
        """Return the pipeline launcher that starts DVC in this sandbox."""
        (self.work / ".dvc" / "tmp" / "sandbox").mkdir(parents=True, exist_ok=True)
        return Launcher(prefix=self.command(), env=self.environ(), watch=watch)


def unsandboxed(watch: Watch | None = None) -> Launcher:
    """Return the launcher of an operator who opted out: own process group, no sandbox."""
    return Launcher(env={key: None for key in SCRUBBED}, watch=watch)


def check_sandbox(forge: Path) -> None:
    """Build a sandbox once around ``true`` (a scratch work tree, ``forge`` hidden); raise if not.

    Raises:
        ForgeError: a tool is missing or the namespaces cannot be created (fail closed).
    """
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        _refuse(f"{', '.join(missing)} not found (install util-linux)")
    with tempfile.TemporaryDirectory(prefix="mlops-sandbox-") as scratch:
        probe = Sandbox(work=Path(scratch), hidden=(forge.resolve(),))
        (probe.work / ".git").mkdir()
        changes = probe.environ().items()
        env = {**os.environ, **{k: v for k, v in changes if v is not None}}
        proc = subprocess.run(
            [*probe.command(), "true"], env=env, capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        _refuse(lines[-1])


def _refuse(why: str) -> None:
    raise ForgeError(
        f"the runner cannot sandbox pushed code on this machine ({why}); run it as root or "
        "where user namespaces are allowed, or opt out with 'mlops runner --no-sandbox'"
    )
