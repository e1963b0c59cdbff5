"""Guard: each shared job of the registry and its readers has one home (issue 14 item 3).

- the MD5 of a file is computed only in ``mlops_gitops/digest.py``;
- a registration's label column (the ``data.label`` param) is read only by
  ``registry.versions.label_of``;
- a YAML file is walked over history (``git log``, then ``cat-file`` of its
  ``REV:PATH`` versions) only by ``mlops_gitops/yamlhistory.py``;
- the landing order of commits is built only by ``registry/graph.py``: a module
  that reads the ``--topo-order`` log hands it to ``build_graph``, and none
  keeps a ``landing`` map of its own.

The allow-lists only shrink: a stale entry fails as well.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import pytest

from tests.helpers.shape import called_name as _name
from tests.helpers.shape import check_allowed as _check
from tests.helpers.shape import package_modules as _modules

DIGEST_HOME = "mlops_gitops/digest.py"
LABEL_HOME = "mlops_gitops/registry/versions.py"
WALK_HOME = "mlops_gitops/yamlhistory.py"
WALK_MODULE = "mlops_gitops.yamlhistory"
GRAPH_HOME = "mlops_gitops/registry/graph.py"
GIT_CALLS = {"git", "git_bytes", "git_records", "git_status", "git_ok"}
# the readers of YAML history that the walk's home serves
WALKERS = ("mlops_gitops/registry/events.py", "mlops_gitops/audit/sources.py")

# "path" -> why the module still computes an MD5 itself.
MD5_ELSEWHERE: dict[str, str] = {}
# "path" -> why the module runs git log and cat-file of REV:PATH names without being a walk.
WALKS_ELSEWHERE: dict[str, str] = {}


def _imports(tree: ast.Module, module: str) -> set[str]:
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def computes_md5(tree: ast.Module) -> bool:
    """Whether the code calls ``hashlib.md5``, imports ``md5`` or asks ``hashlib.new("md5")``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "md5"
            and _name(node.value) == "hashlib"
        ):
            return True
        if isinstance(node, ast.Call) and _name(node.func) == "new" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and str(first.value).lower() == "md5":
                return True
    return "md5" in _imports(tree, "hashlib")


def reads_label(tree: ast.Module) -> bool:
    """Whether the code names the ``data.label`` param of a registration."""
    return any(isinstance(n, ast.Constant) and n.value == "data.label" for n in ast.walk(tree))


def walks_history(tree: ast.Module) -> bool:
    """Whether the code runs ``git log`` and a function reads ``REV:PATH`` objects by cat-file."""
    logs = any(
        isinstance(node, ast.Call)
        and _name(node.func) in GIT_CALLS
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == "log"
        for node in ast.walk(tree)
    )
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    return logs and any(_reads_revisions(function) for function in functions)


def _reads_revisions(function: ast.FunctionDef) -> bool:
    nodes = list(ast.walk(function))
    cats = any(isinstance(n, ast.Call) and _name(n.func) == "cat_file_batch" for n in nodes)
    return cats and any(_is_rev_path(n) for n in nodes if isinstance(n, ast.JoinedStr))


def _is_rev_path(node: ast.JoinedStr) -> bool:
    """Whether an f-string reads ``f"{rev}:{path}"``."""
    if len(node.values) < 3:
        return False
    rev, colon, path = node.values[:3]
    return (
        isinstance(rev, ast.FormattedValue)
        and isinstance(colon, ast.Constant)
        and colon.value == ":"
        and isinstance(path, ast.FormattedValue)
    )


def orders_commits(tree: ast.Module) -> bool:
    """Whether the code builds a landing order itself instead of :func:`build_graph`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                target = item.target if isinstance(item, ast.AnnAssign) else None
                if isinstance(target, ast.Name) and target.id == "landing":
                    return True
    topo = any(isinstance(n, ast.Constant) and n.value == "--topo-order" for n in ast.walk(tree))
    return topo and "build_graph" not in _imports(tree, "mlops_gitops.registry.graph")


def test_only_the_digest_module_computes_md5() -> None:
    breaking = {k for k, tree in _modules() if computes_md5(tree) and k != DIGEST_HOME}
    what = "computes an MD5 itself; use mlops_gitops.digest.file_md5 or stream_md5"
    assert _check(MD5_ELSEWHERE, breaking, what) == []


def test_only_the_registry_reads_a_registrations_label() -> None:
    breaking = {k for k, tree in _modules() if reads_label(tree) and k != LABEL_HOME}
    assert _check({}, breaking, "reads data.label itself; use registry.versions.label_of") == []


def test_only_the_history_module_walks_a_yaml_file_over_history() -> None:
    trees = dict(_modules())
    breaking = {k for k, tree in trees.items() if walks_history(tree) and k != WALK_HOME}
    what = "walks a file over history itself; use yamlhistory.read_item_changes"
    assert _check(WALKS_ELSEWHERE, breaking, what) == []
    users = [k for k in WALKERS if "read_item_changes" in _imports(trees[k], WALK_MODULE)]
    assert users == list(WALKERS)


def test_only_the_registry_graph_orders_commits() -> None:
    trees = dict(_modules())
    breaking = {k for k, tree in trees.items() if orders_commits(tree) and k != GRAPH_HOME}
    assert _check({}, breaking, "orders commits itself; use registry.graph") == []
    assert "read_graph" in _imports(
        trees["mlops_gitops/audit/timeline.py"], "mlops_gitops.registry.graph"
    )


LOG = "scm.git('log', path)\n"
WALK = "def f():\n    scm.cat_file_batch([f'{sha}:{path}'])\n"
TOPO = "scm.git('log', '--topo-order', rev)"
# (check, code, whether the check flags it)
FORMS = [
    (computes_md5, "hashlib.md5(data).hexdigest()", True),
    (computes_md5, "from hashlib import md5", True),
    (computes_md5, "hashlib.new('MD5')", True),
    (computes_md5, "hashlib.sha256(data)", False),
    (reads_label, "values.get('data.label')", True),
    (reads_label, "label_of(params)", False),
    (walks_history, LOG + WALK, True),
    (walks_history, WALK, False),
    (walks_history, LOG + WALK.replace(":{path}", "^{{commit}}"), False),
    (walks_history, LOG + "def f():\n    return f'{ref}:{sha}'\n", False),
    (orders_commits, "class Order:\n    landing: dict[str, str]", True),
    (orders_commits, TOPO, True),
    (orders_commits, "from mlops_gitops.registry.graph import build_graph\n" + TOPO, False),
]


@pytest.mark.parametrize(("check", "code", "flagged"), FORMS)
def test_the_checks_see_each_form(
    check: Callable[[ast.Module], bool], code: str, flagged: bool
) -> None:
    assert check(ast.parse(code)) is flagged
