"""The one path from an error to a command's end: a line on stderr and an exit code.

Every ``switchboard`` command is wrapped in ``reports_errors``: a ``SwitchboardError`` it raises
becomes ``error: <message>`` on stderr (a file's problems: one line each, then
``FILE: N problems``) and the error's ``exit_code``. ``FAILED_EXIT_CODES`` lists the commands
where a failure ends with another code than 1, and why; docs/cli.md shows both as one table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Final, NoReturn, ParamSpec, TypeVar

import typer

from switchboard.errors import ExitCode, ProblemsError, SwitchboardError

P = ParamSpec("P")
R = TypeVar("R")

MEANINGS: Final[Mapping[ExitCode, str]] = {
    ExitCode.OK: "done (`doctor`: no findings, or only info)",
    ExitCode.FAILED: "the command ran and could not do what was asked: an invalid rules file "
    "or agents config, missing or invalid settings, an input it cannot read (`simulate`'s "
    "event file or `--now`), `rules apply` without `--sip`, an error from LiveKit or the store "
    "(`doctor`: warnings; "
    "`stack status`: a process is down; `jobs retry`: an id was not a dead letter)",
    ExitCode.USAGE: "the options given cannot go together or are missing (`jobs retry` "
    "without ids or `--all`, `dev --agent` without `--remote`, `doctor` with nothing to "
    "check), an unknown command or agent, a value the option "
    "parser refuses, or the command's extra is not installed (`doctor`: errors)",
    ExitCode.CANNOT_RUN: "`doctor` only: it could not run (no LiveKit settings for `--server` "
    "or `--probe`, the server unreachable, `--probe` refused)",
}
"""What each exit code means, for every command."""

FAILED_EXIT_CODES: Final[Mapping[str, tuple[ExitCode, str]]] = {
    "doctor": (ExitCode.CANNOT_RUN, "1 and 2 are the severities of its findings"),
    "stack": (ExitCode.USAGE, "kept as released: `stack up` on a stack that is up exits 2"),
    "trunk": (ExitCode.USAGE, "kept as released: bad numbers and an unreachable server exit 2"),
}
"""Commands whose failures (``ExitCode.FAILED`` errors) end with another code, and why."""


def fail(error: SwitchboardError, command: str = "") -> NoReturn:
    """Print ``error`` for a person and end ``command`` with its exit code."""
    if isinstance(error, ProblemsError):
        for issue in error.issues:
            typer.echo(str(issue), err=True)
        typer.echo(error.summary, err=True)
    else:
        typer.echo(f"error: {error}", err=True)
    code = error.exit_code
    if code is ExitCode.FAILED and command in FAILED_EXIT_CODES:
        code = FAILED_EXIT_CODES[command][0]
    raise typer.Exit(int(code))


def reports_errors(command: str = "") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a typer command of ``command`` (its group) so its errors take the one path."""

    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except SwitchboardError as error:
                fail(error, command)

        return run

    return wrap
