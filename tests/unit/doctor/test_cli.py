"""The typer command, driven in-process."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from switchboard.doctor.cli import doctor

from .conftest import FIXTURES

app = typer.Typer()
app.command()(doctor)
runner = CliRunner()


def test_seed_prints_a_table_and_exits_2() -> None:
    result = runner.invoke(
        app, ["--file", str(FIXTURES / "seed"), "--format", "table"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 2
    for code in ("SB101", "SB110", "SB203", "SB204"):
        assert code in result.output


def test_json_flag_and_repeated_files() -> None:
    result = runner.invoke(
        app,
        [
            "--json",
            "--file",
            str(FIXTURES / "SB302" / "bad"),
            "-f",
            str(FIXTURES / "SB105" / "bad" / ".env"),
        ],
    )

    document = json.loads(result.output)
    assert [f["code"] for f in document["findings"]] == ["SB302", "SB105"]
    assert result.exit_code == 1


def test_info_only_exits_0() -> None:
    result = runner.invoke(app, ["--json", "-f", str(FIXTURES / "SB109" / "bad")])

    assert result.exit_code == 0


def test_nothing_to_check_is_a_usage_error() -> None:
    result = runner.invoke(app, [])

    assert result.exit_code == 2
    assert "nothing to check" in result.output


def test_missing_file_is_a_usage_error() -> None:
    result = runner.invoke(app, ["--file", "/nonexistent/trunk.json"])

    assert result.exit_code == 2


@pytest.mark.parametrize("flag", ["--server", "--probe"])
def test_live_modes_name_the_missing_environment_variables(flag: str) -> None:
    env = {"LIVEKIT_URL": "", "LIVEKIT_API_KEY": "", "LIVEKIT_API_SECRET": ""}

    result = runner.invoke(app, [flag], env=env)

    assert result.exit_code == 3
    assert "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET not set" in result.output


def test_unreachable_server_is_one_clear_line_and_exit_3() -> None:
    env = {
        "LIVEKIT_URL": "http://127.0.0.1:9",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "a-test-secret-that-is-long-enough-for-hs256",
    }

    result = runner.invoke(app, ["--server"], env=env)

    assert result.exit_code == 3
    assert "cannot reach LiveKit at http://127.0.0.1:9" in result.output


def test_help_documents_every_option_and_the_exit_status() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})

    for option in ("--file", "--server", "--probe", "--json", "--probe-wait", "Exit status"):
        assert option in result.output


def test_default_output_is_linter_style_text() -> None:
    result = runner.invoke(app, ["--file", str(FIXTURES / "seed")], env={"COLUMNS": "80"})

    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.endswith(
        "seed/qual_agent.py:27: SB101 error: Default agent joins rooms created without an "
        "agent list"
    )
    assert "    fix: " in result.output


def test_format_json_is_the_same_as_the_json_flag() -> None:
    path = str(FIXTURES / "SB302" / "bad")

    long = runner.invoke(app, ["--format", "json", "-f", path])
    short = runner.invoke(app, ["--json", "-f", path])

    assert json.loads(long.output) == json.loads(short.output)
    assert long.exit_code == short.exit_code == 1
