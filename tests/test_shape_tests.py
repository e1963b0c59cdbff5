"""The shape of the test suite: helpers live in tests/helpers, repositories come from the template.

Conftest files hold fixtures; anything a test imports lives in
``tests/helpers``. Importing a conftest module runs it a second time under
another name (pytest imports it as ``conftest``), so its fixtures and
constants exist twice. ``dvc init`` runs once per session, in the repository
template (``tests/helpers/repos.py``); tests copy it instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).parent
TEMPLATE = "helpers/repos.py"

# Files that may run `dvc init` themselves, and why.
DVC_INIT_ALLOWED = {
    TEMPLATE: "builds the session's repository template that every test copies",
}
DVC_INIT = re.compile(
    r"""dvc\s+init\b"""  # a command line: "dvc init -q"
    r"""|["']dvc["']\s*,\s*["']init["']"""  # an argument list: ["dvc", "init"]
    r"""|\bdvc\([^)]*["']init["']"""  # a runner: dvc(repo, "init")
    r"""|\bRepo\.init\("""  # DVC's Python API
)


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p != Path(__file__))


def _conftest_imports(path: Path, root: Path = TESTS) -> list[str]:
    """The lines of ``path`` that import a conftest module or a name from one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(part == "conftest" for name in names for part in name.split(".")):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_module_imports_from_a_conftest() -> None:
    offenders = [line for path in _python_files() for line in _conftest_imports(path)]
    assert offenders == [], "move what these import into tests/helpers"


def test_the_conftest_import_check_sees_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.monitoring.conftest import NOW\n"
        "from .conftest import sh\n"
        "from tests.registry import conftest as shared\n"
        "import conftest\n"
        "from tests.helpers import run\n"
    )
    found = _conftest_imports(sample, tmp_path)
    assert found == ["test_sample.py:1", "test_sample.py:2", "test_sample.py:3", "test_sample.py:4"]


def test_dvc_init_runs_only_in_the_repository_template() -> None:
    offenders = []
    for path in _python_files():
        rel = path.relative_to(TESTS).as_posix()
        if rel in DVC_INIT_ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if DVC_INIT.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], "copy the repository template (tests/helpers/repos.py) instead"


def test_the_dvc_init_check_sees_every_form() -> None:
    lines = [
        'sh("dvc init -q && dvc repro", clone)',
        'run(["dvc", "init", "-q"], repo)',
        'dvc(repo, "init", "-q")',
        "Repo.init(repo)",
    ]
    assert [bool(DVC_INIT.search(line)) for line in lines] == [True] * 4
    assert not DVC_INIT.search('cli("forge", "init", str(path))')


def test_the_allowed_dvc_init_files_exist_and_still_run_it() -> None:
    for rel in DVC_INIT_ALLOWED:
        assert DVC_INIT.search((TESTS / rel).read_text()), f"{rel} no longer runs dvc init"
