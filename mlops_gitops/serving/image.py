"""The serving image of an environment: its Dockerfile and its pinned requirements.

The image builds from the root of any project of the convention (what
``mlops init`` made) once the pinned artifacts are in its DVC cache
(``mlops deploy --env ENV --start none`` fetches and verifies them):

1. **install** -- ``deploy/<env>/requirements.lock`` names the toolkit at the
   version that rendered it and every package of its serving closure
   (``mlops-gitops[serve]``) at the version of the toolkit's lock file
   (``requirements/lock.txt``, shipped inside the package). pip installs
   exactly that list with ``--no-deps`` and ``pip check`` proves it complete,
   so nothing unpinned enters the image. The project adds no Python
   dependency of its own: its models are ONNX graphs with their
   preprocessing inside;
2. **artifacts** -- each pinned object is copied from the DVC cache by its
   content address, then ``mlops serve --check`` fetches, verifies (md5 from
   the manifest) and loads every pinned model exactly as the server does; a
   mismatch fails the build;
3. **start** -- a non-root user (uid 65534, as the rendered Deployment's
   ``securityContext``) runs ``mlops serve --env ENV``; only ``.mlops/`` and
   the prediction-log folder are writable by it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import PurePosixPath
from typing import Literal

from mlops_gitops import __version__
from mlops_gitops.serving.model import ServingError
from mlops_gitops.serving.plan import ServingPlan, read_plan, read_registered_plan

TOOLKIT = "mlops-gitops"
EXTRA = "serve"
LOCK_RESOURCE = "templates/serving/lock.txt"
TEMPLATE = "templates/serving/Dockerfile.j2"
REQUIREMENTS = "requirements.lock"
# Where the image keeps what it is built from: the project (its envs/ and the
# DVC cache objects), and the render folder with the lock and any wheels.
SERVE_DIR = "/srv"
STAGING_DIR = "/opt/mlops-image"
SERVE_UID = 65534
# What 'pip freeze' leaves out of a lock: pinned at the version installed here.
FREEZE_EXCLUDED = frozenset({"pip", "setuptools", "wheel", "distribute"})


@dataclass(frozen=True)
class CheckedModel:
    """A pinned model version that fetched, verified and loaded."""

    model: str
    version: str
    md5: str


def read_lock(text: str, *, origin: str = "requirements/lock.txt") -> dict[str, str]:
    """Return the ``name==version`` pins of a lock file, keyed by normalised name.

    Raises:
        ServingError: a line pins no exact version.
    """
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise ServingError(f"{origin}:{number}: '{line}' is not 'name==version'")
        pins[canonicalize_name(name.split("[", 1)[0].strip())] = version.strip()
    return pins


def toolkit_lock() -> dict[str, str]:
    """Return the pins of the lock file shipped with the toolkit."""
    from importlib.resources import files

    return read_lock(files("mlops_gitops").joinpath(LOCK_RESOURCE).read_text("utf-8"))


def serving_requirements(lock: dict[str, str] | None = None) -> list[str]:
    """Return the image's requirements: the toolkit and its serving closure, pinned.

    The closure is walked through the installed distributions' metadata
    (markers evaluated for this interpreter: the image's Python 3.11 on Linux);
    every member takes the lock's version, the toolkit its own, and what
    ``pip freeze`` leaves out of a lock (setuptools, wheel) the installed one.

    Raises:
        ServingError: a member of the closure is not installed here or not in the lock.
    """
    from packaging.utils import canonicalize_name

    pins = toolkit_lock() if lock is None else lock
    lines = [f"{TOOLKIT}=={__version__}"]
    for name, needed_by in sorted(_closure(TOOLKIT, EXTRA).items()):
        if name == canonicalize_name(TOOLKIT):
            continue
        if name in FREEZE_EXCLUDED and name not in pins:
            lines.append(f"{name}=={metadata.version(name)}")
            continue
        if name not in pins:
            raise ServingError(
                f"requirements/lock.txt pins no version of '{name}' (needed by {needed_by}); "
                "add it to the lock"
            )
        lines.append(f"{name}=={pins[name]}")
    return lines


def _closure(root: str, extra: str) -> dict[str, str]:
    """Return every distribution ``root[extra]`` needs, with one that needs it."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    todo: list[tuple[str, frozenset[str], str]] = [(root, frozenset({extra}), root)]
    while todo:
        name, extras, parent = todo.pop()
        key = canonicalize_name(name)
        if key in extras_seen and extras <= extras_seen[key]:
            continue
        extras_seen.setdefault(key, set()).update(extras)
        found.setdefault(key, parent)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            raise ServingError(
                f"'{name}' (needed by {parent}) is not installed here; the serving image's "
                f"closure is read from an installed '{TOOLKIT}[{EXTRA}]'"
            ) from None
        for text in requires:
            dep = Requirement(text)
            wanted = {"", *extras}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in wanted):
                todo.append((dep.name, frozenset(dep.extras), key))
    return found


def writable_dirs(plan: ServingPlan) -> list[str]:
    """Return the image folders the server writes: its state and its prediction logs."""
    dirs = [f"{SERVE_DIR}/.mlops"]
    configured = plan.settings.prediction_log.path
    if configured and not PurePosixPath(configured).is_absolute():
        top = PurePosixPath(configured).parts[0]
        if top != ".mlops":
            dirs.append(f"{SERVE_DIR}/{top}")
    elif configured:
        dirs.append(configured)
    return dirs


def render_image(
    plan: ServingPlan, *, port: int, token_dir: str, command: list[str]
) -> dict[str, str]:
    """Return the image's build files, by name: ``Dockerfile`` and ``requirements.lock``.

    ``command`` is what the image runs (``mlops`` arguments, the Deployment's ``args``).
    """
    from importlib.resources import files

    from jinja2 import Environment, StrictUndefined

    from mlops_gitops.pipeline import cache_object_path

    text = files("mlops_gitops").joinpath(TEMPLATE).read_text("utf-8")
    template = Environment(undefined=StrictUndefined, keep_trailing_newline=True).from_string(text)
    md5s = sorted({v.md5 for m in plan.models for v in m.variants})
    docker = template.render(
        env=plan.env,
        artifacts=[cache_object_path(PurePosixPath("."), m).as_posix() for m in md5s],
        port=port,
        token_dir=token_dir,
        version=__version__,
        serve_dir=SERVE_DIR,
        staging=STAGING_DIR,
        requirements=REQUIREMENTS,
        uid=SERVE_UID,
        writable=" ".join(writable_dirs(plan)),
        command=json.dumps(command),
    )
    lock = "".join(f"{line}\n" for line in serving_requirements())
    header = (
        f"# The serving image's packages, rendered from the lock of {TOOLKIT} {__version__};\n"
        "# installed with 'pip install --no-deps', so this list is all the image holds.\n"
    )
    return {"Dockerfile": docker, REQUIREMENTS: header + lock}


def check_models(
    root: str, env: str, *, registry: Literal["required", "skip"] = "required"
) -> tuple[CheckedModel, ...]:
    """Fetch, verify and load every model ``env`` pins, as the server would; keep none.

    ``registry="skip"`` is for the image's build, which has no Git history.

    Raises:
        ManifestError: the manifest is missing or not valid.
        RegistryError: a pin differs from its registration (``registry="required"``).
        ServingError: an artifact is missing, differs from its pinned hash or does not load.
    """
    from mlops_gitops.serving.modelset import load_model_set

    read = read_registered_plan if registry == "required" else read_plan
    models = load_model_set(read(root, env))
    return tuple(
        CheckedModel(loaded.name, loaded.version, loaded.md5) for loaded in models.all_versions()
    )
