"""Helpers shared by the tests: command runners, test data builders, fakes.

Conftest files hold fixtures only and import what they need from here;
tests import helpers from here, never from a conftest (``test_shape_tests``
checks it). The modules registered in ``tests/conftest.py``'s
``pytest_plugins`` hold fixtures shared by several test folders.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.helpers.commands import gen_tree, git, run, sh, sh_stdout

DEMO_LOG = "demo-output.log"  # what the session's demo run printed, beside its project


@dataclass(frozen=True)
class CliResult:
    """The outcome of one CLI call: exit code, stdout and stderr apart."""

    exit_code: int
    stdout: str
    stderr: str


__all__ = ["DEMO_LOG", "CliResult", "gen_tree", "git", "run", "sh", "sh_stdout"]
