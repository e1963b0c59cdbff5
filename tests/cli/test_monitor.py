"""``mlops monitor``: run, replay and receiver, one success and one failure each."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import CliResult, gen_tree
from tests.helpers.monitoring import make_frame, write_log
from tests.monitoring.oip_fake import fake_oip_server
from tests.monitoring.test_reference import _registered_project

Cli = Callable[..., CliResult]


def _deployed(root: Path) -> None:
    _registered_project(root)
    gen_tree(
        root,
        {
            "envs/prod.yaml": (
                "models:\n  credit-default:\n    version: v1.0.0\n"
                "    artifact: {path: models/model.onnx, md5: 0123456789abcdef0123456789abcdef}\n"
                "serving:\n  prediction_log: {path: logs/prod}\n"
            )
        },
        commit="Deploy",
    )
    now = datetime.now(UTC).replace(microsecond=0)
    write_log(
        root / "logs/prod/credit-default", make_frame(300, seed=9), start=now - timedelta(hours=1)
    )


def test_monitor_env_writes_a_run_and_prints_the_health(dvc_repo: Path, cli: Cli) -> None:
    _deployed(dvc_repo)
    result = cli("monitor", "--env", "prod")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("prod: ok, window 1d, health ")
    assert "credit-default  v1.0.0   300" in result.stdout
    assert (dvc_repo / "monitoring/prod/history.jsonl").exists()


def test_monitor_run_json_reports_no_traffic_without_writing(dvc_repo: Path, cli: Cli) -> None:
    _deployed(dvc_repo)
    result = cli("monitor", "run", "--env", "prod", "--window", "5m", "--no-write", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["status"] == "no traffic" and body["window"] == "5m"
    assert not (dvc_repo / "monitoring").exists()


def test_monitor_unknown_environment_is_a_one_line_error(git_repo: Path, cli: Cli) -> None:
    gen_tree(
        git_repo, {"envs/environments.yaml": "environments:\n  prod: {}\n", "envs/prod.yaml": ""}
    )
    result = cli("monitor", "--env", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown environment 'nope'")
    assert result.stderr.count("\n") == 1


def test_monitor_bad_window_is_a_usage_error(cli: Cli) -> None:
    result = cli("monitor", "--env", "prod", "--window", "soon")
    assert result.exit_code == 2
    assert "Invalid value for '--window': expected a duration" in result.stderr


def test_monitor_replay_reports_what_was_sent(cli: Cli) -> None:
    with fake_oip_server() as server:
        result = cli(
            "monitor", "replay", "--url", server.url, "--model", "credit-default", "--rows", "40"
        )
    assert result.exit_code == 0, result.stderr
    assert "replayed 40 rows (drift 1) to credit-default" in result.stdout
    assert "1 requests, 0 failed, 40 labels recorded" in result.stdout


def test_monitor_replay_sends_a_files_rows_with_their_labels(tmp_path: Path, cli: Cli) -> None:
    from mlops_gitops.data.sample import generate_sample

    later = tmp_path / "later.csv"
    generate_sample(60, 3, 0.0).to_csv(later, index=False)
    with fake_oip_server() as server:
        args = ("monitor", "replay", "--url", server.url, "--model", "credit-default")
        result = cli(*args, "--data", str(later), "--rows", "45", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["source"], body["drift"], body["rows"], body["labels"]) == (
        str(later),
        None,
        45,
        45,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "income,default\n1.0,0\n",
            "error: model 'credit-default' takes inputs {file} does not have",
        ),
        (None, "error: {file}: file not found"),
    ],
)
def test_monitor_replay_of_a_file_without_the_models_inputs_fails_in_one_line(
    tmp_path: Path, cli: Cli, content: str | None, message: str
) -> None:
    later = tmp_path / "later.csv"
    if content is not None:
        later.write_text(content)
    with fake_oip_server() as server:
        args = ("monitor", "replay", "--url", server.url, "--model", "credit-default")
        result = cli(*args, "--data", str(later))
    assert result.exit_code == 1
    assert result.stderr.startswith(message.format(file=later)) and result.stderr.count("\n") == 1


def test_monitor_replay_unreachable_server_fails(cli: Cli) -> None:
    result = cli("monitor", "replay", "--url", "http://127.0.0.1:9", "--model", "m")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: cannot reach the server at http://127.0.0.1:9/v2/models/m"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post_when_up(url: str, body: bytes) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # a refused connection returns at once: retry until bound
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5).close()
            return
        except OSError:
            continue


def test_monitor_receiver_prints_an_alert_and_stops_after_count(cli: Cli) -> None:
    port = _free_port()
    body = json.dumps({"title": "[P2] prod/credit-default: data-drift"}).encode()
    sender = threading.Thread(target=_post_when_up, args=(f"http://127.0.0.1:{port}/", body))
    sender.start()
    result = cli("monitor", "receiver", "--port", str(port), "--count", "1", "--timeout", "20")
    sender.join()
    assert result.exit_code == 0, result.stderr
    assert "received [P2] prod/credit-default: data-drift (unsigned)" in result.stdout


def test_monitor_receiver_times_out_without_alerts(cli: Cli) -> None:
    result = cli(
        "monitor", "receiver", "--port", str(_free_port()), "--count", "1", "--timeout", "0"
    )
    assert result.exit_code == 1
    assert result.stderr == "error: 0 of 1 alerts arrived within 0 s\n"


@pytest.mark.parametrize("missing", ["MLOPS_TEST_UNSET_SECRET"])
def test_monitor_receiver_needs_its_secret_variable(cli: Cli, missing: str) -> None:
    result = cli("monitor", "receiver", "--secret-env", missing)
    assert result.exit_code == 2
    assert f"environment variable {missing} is not set" in result.stderr
