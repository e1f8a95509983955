"""One error path for every command: one line on stderr and the exit code of the error's kind."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.cli_errors import FAILED_EXIT_CODES, reports_errors
from switchboard.errors import (
    ConfigError,
    ExitCode,
    MissingExtraError,
    Problem,
    SwitchboardError,
    UsageError,
)
from switchboard.rules import RulesError

runner = CliRunner()


def _exit_of(error: SwitchboardError, command: str = "") -> tuple[int, str]:
    one = typer.Typer()

    @one.command()
    @reports_errors(command)
    def fails() -> None:
        raise error

    result = runner.invoke(one, [])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("LIVEKIT_URL not set"), ExitCode.FAILED),
        (UsageError("name job ids or pass --all"), ExitCode.USAGE),
        (MissingExtraError("serve", "service", "starlette"), ExitCode.USAGE),
    ],
)
def test_an_error_is_one_line_and_the_exit_code_of_its_kind(
    error: SwitchboardError, code: ExitCode
) -> None:
    assert _exit_of(error) == (code, f"error: {error}\n")


@pytest.mark.parametrize("command", sorted(FAILED_EXIT_CODES))
def test_a_failure_ends_with_the_commands_own_code_where_the_table_says(command: str) -> None:
    expected = FAILED_EXIT_CODES[command][0]
    assert _exit_of(ConfigError("broken"), command)[0] == expected
    assert _exit_of(UsageError("wrong"), command)[0] == ExitCode.USAGE


def test_a_files_problems_are_listed_one_per_line_then_counted() -> None:
    error = RulesError(
        [
            Problem("r.yaml", 5, 11, "an action must be 'nobody'", "write 'nobody'"),
            Problem("r.yaml", 4, 12, "unknown field 'room.nmae'"),
        ]
    )
    assert _exit_of(error) == (
        ExitCode.FAILED,
        "r.yaml:4:12: unknown field 'room.nmae'\n"
        "r.yaml:5:11: an action must be 'nobody' (hint: write 'nobody')\n"
        "r.yaml: 2 problems\n",
    )


def test_an_agents_config_problem_has_line_and_key_path() -> None:
    problem = Problem("agents.yaml", 7, message="unknown key", location="qualifier.x")
    assert str(problem) == "agents.yaml:7: qualifier.x: unknown key"
    assert str(Problem("agents.yaml", message="cannot read")) == "agents.yaml: cannot read"


def test_agent_help_lists_the_bundled_agents_and_each_agent_has_its_options() -> None:
    overview = runner.invoke(app, ["agent", "--help"])
    options = runner.invoke(app, ["agent", "qualifier", "--help"])

    assert overview.exit_code == 0 and "switchboard agent qualifier --help" in overview.output
    assert options.exit_code == 0 and "--agent-name" in options.output


def test_an_unknown_agent_is_a_usage_error() -> None:
    result = runner.invoke(app, ["agent", "caller"])
    assert result.exit_code == ExitCode.USAGE


def test_rules_apply_keeps_its_command_line_and_exit_code() -> None:
    result = runner.invoke(app, ["rules", "apply"])
    assert (result.exit_code, result.stderr) == (1, "error: nothing to apply: pass --sip\n")
