"""``switchboard agent NAME [options]``: run a bundled agent as a named livekit-agents worker.

The bundled agents, their options (``switchboard agent NAME --help``) and the worker itself live
in ``switchboard.agents.launcher``, which needs the agents extra. This group imports it only to
list or run an agent, so ``switchboard agent --help`` answers on every install and an install
without the extra says which one to add.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from switchboard.cli_errors import fail
from switchboard.errors import MissingExtraError, SwitchboardError

NOT_INSTALLED_HELP = (
    "usage: switchboard agent NAME [options]\n\n"
    "Run one of the bundled agents (qualifier, outbound-caller, ...) as a named livekit-agents\n"
    "worker. Not installed here: pip install 'livekit-switchboard[agents]'"
)


class AgentCommand(TyperCommand):
    """One bundled agent: its arguments, ``--help`` included, go to the launcher as they are."""

    def invoke(self, ctx: Any) -> None:
        try:
            _launcher().run(str(self.name), list(ctx.args))
        except SwitchboardError as error:
            fail(error, "agent")


class AgentGroup(TyperGroup):
    """The bundled agents as sub-commands, as the launcher lists them."""

    def list_commands(self, ctx: Any) -> list[str]:
        try:
            return list(_launcher().AGENTS)
        except MissingExtraError:
            return []

    def get_command(self, ctx: Any, cmd_name: str) -> AgentCommand | None:
        if cmd_name.replace("_", "-") not in self.list_commands(ctx) and self.list_commands(ctx):
            return None  # click says "No such command" and lists none; --help lists them
        return AgentCommand(
            cmd_name,
            help=f"Run the bundled {cmd_name} agent (switchboard agent {cmd_name} --help).",
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
            add_help_option=False,
        )

    def format_help(self, ctx: Any, formatter: Any) -> None:
        try:
            formatter.write(_launcher().overview() + "\n")
        except MissingExtraError:
            formatter.write(NOT_INSTALLED_HELP + "\n")


agent_app = typer.Typer(
    cls=AgentGroup,
    help="Run one of the bundled agents as a named livekit-agents worker (--help lists them).",
    no_args_is_help=True,
)


def _launcher() -> ModuleType:
    try:
        from switchboard.agents import launcher
    except ImportError as missing:
        raise MissingExtraError.from_import("agent", "agents", missing) from None
    return launcher
