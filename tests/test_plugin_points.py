"""The one plug-in loader: precedence, unknown names, failing imports, wrong Protocols.

Plug-ins are installed for real: a ``*.dist-info`` folder with an
``entry_points.txt`` and the plug-in's module, on ``sys.path``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Protocol, runtime_checkable

import pytest

from mlops_gitops.errors import ConfigError, format_chain
from mlops_gitops.forge import ForgeError, open_forge
from mlops_gitops.plugins import PluginPoint, as_is, instance

GROUP = "mlops_gitops.test_greeters"

PLUGIN = """
class Loud:
    def greet(self, who):
        return f"HELLO {who}"


class Mute:
    pass


class Needy:
    def __init__(self, config):
        self.config = config

    def greet(self, who):
        return who


def open_forge(root, env):
    return "a forge"
"""


@runtime_checkable
class Greeter(Protocol):
    def greet(self, who: str) -> str: ...


class Plain:
    def greet(self, who: str) -> str:
        return f"hello {who}"


PLAIN = f"{__name__}:Plain"
POINT: PluginPoint[Greeter] = PluginPoint(
    group=GROUP,
    what="greeter",
    protocol=Greeter,
    builtins={"plain": Plain, "lazy": PLAIN},
    error=ConfigError,
    make=instance,
)


def install(site: Path, dist: str, entries: str, *, group: str = GROUP) -> None:
    """Install the distribution ``dist`` with ``entries`` in ``group`` by writing its metadata."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entries}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "greeters.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "greeters", raising=False)
    return tmp_path


def test_builtins_load_without_any_plugin_installed() -> None:
    assert POINT.load("plain").greet("you") == "hello you"
    assert isinstance(POINT.load("lazy"), Plain)
    assert POINT.names() == {
        "lazy": PLAIN,
        "plain": PLAIN,
    }


def test_a_plugin_is_found_by_name_and_listed(site: Path) -> None:
    install(site, "greeters", "loud = greeters:Loud")
    assert POINT.load("loud").greet("you") == "HELLO you"
    assert POINT.names()["loud"] == "greeters:Loud"


def test_a_plugin_cannot_shadow_a_builtin_and_is_reported(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(site, "greeters", "plain = greeters:Loud")
    with caplog.at_level(logging.WARNING, logger="mlops_gitops.plugins"):
        names = POINT.names()
    assert POINT.load("plain").greet("you") == "hello you"
    assert names["plain"] == PLAIN
    assert caplog.messages == [
        "entry point 'plain = greeters:Loud' of greeters 1.0: ignored, 'plain' is the built-in "
        f"greeter {PLAIN}"
    ]


def test_an_older_install_of_the_toolkit_declaring_a_builtin_is_ignored_quietly(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(site, "mlops-gitops", "plain = greeters:Loud")
    with caplog.at_level(logging.WARNING, logger="mlops_gitops.plugins"):
        assert POINT.names()["plain"] == PLAIN
    assert caplog.messages == []


def test_an_unknown_name_lists_the_known_ones(site: Path) -> None:
    install(site, "greeters", "loud = greeters:Loud")
    with pytest.raises(ConfigError) as info:
        POINT.load("shy", where="params.yaml greeter")
    assert str(info.value) == "params.yaml greeter: unknown greeter 'shy'; known: lazy, loud, plain"


def test_a_plugin_whose_import_fails_is_a_one_line_error(site: Path) -> None:
    install(site, "greeters", "gone = no_such_module:Greeter")
    with pytest.raises(ConfigError) as info:
        POINT.load("gone")
    assert format_chain(info.value) == (
        "greeter 'gone' (entry point 'gone = no_such_module:Greeter' of greeters 1.0) "
        "cannot be imported: No module named 'no_such_module'"
    )
    assert isinstance(info.value.__cause__, ImportError)


def test_a_plugin_naming_a_missing_attribute_cannot_be_imported(site: Path) -> None:
    install(site, "greeters", "typo = greeters:Lod")
    with pytest.raises(
        ConfigError, match=r"^greeter 'typo' \(entry point .*\) cannot be imported$"
    ):
        POINT.load("typo")


def test_a_plugin_that_does_not_satisfy_the_protocol_names_what_it_lacks(site: Path) -> None:
    install(site, "greeters", "mute = greeters:Mute")
    with pytest.raises(ConfigError) as info:
        POINT.load("mute", where="params.yaml greeter")
    assert str(info.value) == (
        "params.yaml greeter: greeter 'mute' (entry point 'mute = greeters:Mute' of greeters 1.0) "
        "does not implement Greeter: missing greet"
    )


def test_a_plugin_that_cannot_be_created_is_a_one_line_error(site: Path) -> None:
    install(site, "greeters", "needy = greeters:Needy")
    with pytest.raises(
        ConfigError, match=r"^greeter 'needy' \(entry point .*\) cannot be created$"
    ):
        POINT.load("needy")


def test_a_builtin_reference_is_imported_only_when_used() -> None:
    point: PluginPoint[Greeter] = PluginPoint(
        group=GROUP,
        what="greeter",
        protocol=Greeter,
        builtins={"later": "no_such_module:Greeter"},
        error=ConfigError,
        make=as_is,
    )
    assert point.names() == {"later": "no_such_module:Greeter"}
    with pytest.raises(ConfigError, match=r"^greeter 'later' \(no_such_module:Greeter\) cannot be"):
        point.load("later")


def test_a_forge_plugin_whose_import_fails_exits_1_with_one_line(site, cli, git_repo) -> None:
    install(site, "broken-forge", "broken = no_such_forge:open", group="mlops_gitops.forges")
    result = cli("ci", "gate", "--forge", "broken")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: forge 'broken' (entry point 'broken = no_such_forge:open' of broken-forge 1.0) "
        "cannot be imported: No module named 'no_such_forge'"
    )


def test_a_forge_plugin_that_is_not_a_factory_is_refused(site: Path) -> None:
    install(site, "greeters", "odd = greeters:Mute.__doc__", group="mlops_gitops.forges")
    with pytest.raises(ForgeError, match=r"^forge 'odd' \(.*\) does not implement ForgeFactory"):
        open_forge("odd", root=site, env={})
