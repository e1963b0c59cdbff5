"""The shared entry point of the pipeline's stage scripts (``stages/*.py``).

A stage script is a thin shell, like a CLI command: it loads its params
sections, calls ONE library function with keywords only (the paths named in
``dvc.yaml``, each under the name of what it is, then the params it needs),
and leaves everything else to this module::

    from mlops_gitops import stage
    from mlops_gitops.quality import validate_dataset


    def main() -> None:
        params = stage.load_sections("data", "schema")
        validate_dataset(
            raw="data/raw/dataset.parquet",
            validation_report="reports/validation.json",
            data=params["data"],
            schema=params["schema"],
        )


    if __name__ == "__main__":
        raise SystemExit(stage.run_stage(main))

The API (small and stable):

- :func:`run_stage` runs ``main`` as a process body: logging to stderr
  (level from ``MLOPS_LOG_LEVEL``, default ``INFO``), an :class:`MlopsError`
  becomes ``error: <one line>`` and its exit code (1, or 3 for a blocked
  gate), any other exception ``internal error: ...`` and exit 4,
  Ctrl-C exit 130; ``MLOPS_TRACEBACK=1`` re-raises instead. It returns the
  exit code and never calls ``sys.exit`` itself.
- :func:`load_sections` composes ``params.yaml`` once (through
  :mod:`mlops_gitops.params`) and returns the named sections.

The library functions the stages call write their own outputs through
:mod:`mlops_gitops.outputs` (stale copies cleared, JSON written atomically).
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlops_gitops import params
from mlops_gitops.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigError,
    MlopsError,
    format_chain,
)

log = logging.getLogger(__name__)

LOG_LEVEL_ENV = "MLOPS_LOG_LEVEL"
TRACEBACK_ENV = "MLOPS_TRACEBACK"


def run_stage(main: Callable[[], object], *, name: str | None = None) -> int:
    """Run a stage's ``main`` and return the process exit code.

    Args:
        main: the stage body; it takes no arguments (paths come from
            ``dvc.yaml`` and are written in the script).
        name: the stage name used in log lines; defaults to the stem of the
            file that defines ``main`` (``stages/train.py`` -> ``train``).
    """
    stage_name = name or _stage_name(main)
    with _stage_logging(stage_name):
        started = time.perf_counter()
        code = _call(_checked(main))
        if code == EXIT_OK:
            log.info("stage %s finished in %.1f s", stage_name, time.perf_counter() - started)
    return code


def _checked(main: Callable[[], object]) -> Callable[[], object]:
    """Check every params section the toolkit reads before the stage does any work."""

    def run() -> object:
        if Path(params.PARAMS_FILE).is_file():
            params.check_params(params.load_params("."))
        return main()

    return run


def _call(main: Callable[[], object]) -> int:
    try:
        main()
    except KeyboardInterrupt:
        log.error("interrupted")
        return EXIT_INTERRUPTED
    except MlopsError as exc:
        if _wants_traceback():
            raise
        log.error("error: %s", format_chain(exc))
        return exc.exit_code
    except Exception as exc:  # the one broad catch of a stage process: anything else is a bug
        if _wants_traceback():
            raise
        log.error(
            "internal error: %s: %s (rerun with %s=1 and report it)",
            type(exc).__name__,
            format_chain(exc),
            TRACEBACK_ENV,
        )
        return EXIT_INTERNAL
    return EXIT_OK


def load_sections(*names: str, root: str | os.PathLike[str] = ".") -> dict[str, dict[str, Any]]:
    """Compose ``ROOT/params.yaml`` once and return the sections ``names``.

    Raises:
        ConfigError: params.yaml is invalid, or a section is absent or not a mapping.
    """
    composed = params.load_params(root)
    sections: dict[str, dict[str, Any]] = {}
    for name in names:
        section = composed.get(name)
        if section is None:
            known = ", ".join(sorted(composed)) or "none"
            raise ConfigError(f"{params.PARAMS_FILE}: no section '{name}' (sections: {known})")
        if not isinstance(section, dict):
            raise ConfigError(
                f"{params.PARAMS_FILE} {name}: expected a mapping, got {type(section).__name__}"
            )
        sections[name] = section
    return sections


def _stage_name(main: Callable[[], object]) -> str:
    try:
        return Path(inspect.getfile(main)).stem
    except TypeError:
        return getattr(main, "__name__", "stage")


@contextmanager
def _stage_logging(stage_name: str) -> Iterator[None]:
    # Installed for the run only, so calling run_stage in-process (tests) leaves
    # the logging configuration as it found it.
    level = logging.getLevelName(os.environ.get(LOG_LEVEL_ENV, "INFO").upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[{stage_name}] %(message)s"))
    logger = logging.getLogger("mlops_gitops")
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level if isinstance(level, int) else logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _wants_traceback() -> bool:
    return os.environ.get(TRACEBACK_ENV, "") not in ("", "0")
