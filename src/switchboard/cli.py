"""The ``switchboard`` command: one entry point, each capability a sub-command."""

from __future__ import annotations

import typer

from switchboard.stack.cli import stack_app

app = typer.Typer(
    help="Switchboard: rules-driven agent dispatch, call flows and diagnostics for LiveKit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_app, name="stack")


if __name__ == "__main__":
    app()
