"""Exit codes and error reports: 0 success, 1 API failure, 2 usage error; no tracebacks."""

from __future__ import annotations

import pytest

from .conftest import FAST, Runner, Served, run_cli

UNKNOWN = "img_01KS2D7VBRX1NC1J4R82RJEXE5"


def test_bad_arguments_exit_2_in_a_subprocess() -> None:
    result = run_cli("generate", "a fox", "--count", "9")

    assert result.returncode == 2
    assert "usage: aurous generate" in result.stderr
    assert "argument --count/-n: must be between 1 and 4, got 9" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["generate"], "the following arguments are required: prompt"),
        (["--emulator", "generate", "x", "--size", "huge"], "invalid choice: 'huge'"),
        (["--emulator", "usage", "--since", "soon"], "invalid duration 'soon'"),
        (["--emulator", "video", "waves"], "the following arguments are required: --lora"),
        (["--emulator", "batch", "f", "--concurrency", "0"], "must be between 1 and 64"),
        (["--emulator-speed", "0", "balance"], "must be greater than zero"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    inproc: Runner, args: list[str], message: str
) -> None:
    result = inproc(*args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "usage: aurous" in result.stderr
    assert result.stdout == ""


def test_no_command_prints_help_and_exits_2(inproc: Runner) -> None:
    result = inproc()

    assert result.returncode == 2
    assert "commands:" in result.stderr


def test_help_exits_0(inproc: Runner) -> None:
    result = inproc("generate", "--help")

    assert result.returncode == 0
    assert "--no-wait" in result.stdout


def test_missing_api_key_is_a_usage_error(inproc: Runner) -> None:
    result = inproc("balance")

    assert result.returncode == 2
    assert "no API key: pass --api-key or set AUROUS_API_KEY" in result.stderr


def test_emulator_cannot_be_combined_with_a_base_url(inproc: Runner) -> None:
    result = inproc("--emulator", "--base-url", "http://127.0.0.1:9", "balance")

    assert result.returncode == 2
    assert "--emulator cannot be combined" in result.stderr


def test_missing_batch_file_is_a_usage_error(inproc: Runner, tmp_path: object) -> None:
    result = inproc("--emulator", "batch", f"{tmp_path}/missing.txt")

    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_api_error_exits_1_with_code_and_request_id(served: Served) -> None:
    result = served.run("get", UNKNOWN)

    assert result.returncode == 1
    assert "Error: No such generation" in result.stderr
    assert "status: 404" in result.stderr
    assert "type: not_found" in result.stderr
    assert "code: resource_not_found" in result.stderr
    assert "request id: req_" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_verbose_shows_the_traceback_and_debug_log(served: Served) -> None:
    result = served.run("-v", "get", UNKNOWN)

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "NotFoundError" in result.stderr
    assert "GET" in result.stderr  # the SDK's request log (AUROUS_LOG=debug)


def test_api_error_as_json(served: Served, inproc: Runner) -> None:
    result = inproc(*served.args, "--json", "get", UNKNOWN)

    assert result.returncode == 1
    error = result.json()["error"]
    assert error["code"] == "resource_not_found"
    assert error["type"] == "not_found"
    assert error["request_id"].startswith("req_")


def test_rejected_key_exits_1(served: Served, inproc: Runner) -> None:
    result = inproc("--base-url", served.server.base_url, "--api-key", "al_live_wrong", "balance")

    assert result.returncode == 1
    assert "status: 401" in result.stderr
    assert "Traceback" not in result.stderr


def test_insufficient_balance_exits_1(served: Served, inproc: Runner) -> None:
    served.emulator.set_balance(0)

    result = inproc(*served.args, "generate", *FAST, "a lighthouse")

    assert result.returncode == 1
    assert "code: balance_too_low" in result.stderr
    assert "status: 402" in result.stderr
