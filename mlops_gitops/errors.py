"""The error root of the toolkit and the process exit codes.

Every error a user can cause is an :class:`MlopsError`; each concept module
defines its own subclasses beside the code that raises them::

    MlopsError                      exit 1, the user must fix input or state
    ├── ConfigError                 params.yaml, pyproject, CLI values
    ├── ScmError                    git refused or the repository is not usable
    ├── PipelineError               dvc.yaml, dvc.lock, a DVC command failed
    ├── DependencyMissingError      an optional extra is not installed
    ├── (concept errors)            ManifestError, RegistryError, PolicyError,
    │                               ForgeError, ServingError, DataError, ...
    └── GateBlocked                 exit 3, a valid run with a negative decision

Anything else that reaches ``cli.main`` is a bug and exits 4.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class MlopsError(Exception):
    """An error the user can fix; its message is one line."""

    exit_code = EXIT_USER


class ConfigError(MlopsError):
    """A configuration file or value is not valid."""


class ScmError(MlopsError):
    """A git operation failed or the repository is not in the expected state."""


class PipelineError(MlopsError):
    """The DVC pipeline or a DVC command failed."""


class DataError(MlopsError):
    """A dataset could not be read, generated or written."""


class DependencyMissingError(MlopsError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"the '{module}' package is needed for this; "
            f"install it with: pip install 'mlops-gitops[{extra}]'"
        )


class GateBlocked(MlopsError):
    """The policy gate blocked a change (not an error of the run itself)."""

    exit_code = EXIT_BLOCKED


# libraries whose validation errors print a dump of the schema or of every error
_DUMPS = ("pydantic", "jsonschema")


def format_chain(exc: BaseException) -> str:
    """Return the message of ``exc`` followed by its causes, on one line."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if parts and any(k.__module__.startswith(_DUMPS) for k in type(current).__mro__):
            break  # the message above already names the field; the library's text is a dump
        seen.add(id(current))
        text = " ".join(str(current).split())
        if text and text not in parts:
            parts.append(text)
        current = current.__cause__
    return ": ".join(parts) if parts else type(exc).__name__
