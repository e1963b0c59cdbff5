"""The CLI shell: help, version, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys

from mlops_gitops.errors import ConfigError, format_chain


def test_help_lists_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    assert "init" in result.stdout and "demo" in result.stdout


def test_version(cli):
    from mlops_gitops import __version__

    result = cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_help_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from mlops_gitops.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'dvc', 'pydantic', 'lightning', 'shap')"
        " if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_unknown_command_is_a_usage_error(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_user_error_prints_one_line_without_traceback(cli, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = cli("init", str(tmp_path / "full"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "not empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_format_chain_joins_causes_on_one_line():
    try:
        try:
            raise ValueError("bad\nvalue")
        except ValueError as exc:
            raise ConfigError("params.yaml: broken") from exc
    except ConfigError as err:
        assert format_chain(err) == "params.yaml: broken: bad value"


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "mlops_gitops", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "mlops" in out.stdout
