"""The ``switchboard`` command: one entry point, each capability a sub-command.

Every command ends the same way on an error: ``switchboard.cli_errors.reports_errors`` prints a
``SwitchboardError`` as one line on stderr and exits with its code (docs/cli.md, "Exit codes").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from switchboard.agent_cli import agent_app
from switchboard.cli_errors import reports_errors
from switchboard.doctor.cli import doctor
from switchboard.errors import MissingExtraError, UsageError
from switchboard.rules.cli import rules_app, simulate
from switchboard.stack.cli import stack_app
from switchboard.trunk_cli import trunk_app

app = typer.Typer(
    help="Switchboard: rules-driven agent dispatch, call flows and diagnostics for LiveKit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def register_missing(group: typer.Typer, command: str, extra: str, missing: ImportError) -> None:
    """Register ``command`` on an install without ``extra``: whatever its arguments, it fails
    with ``MissingExtraError`` (exit 2)."""
    name = command.rsplit(" ", 1)[-1]
    error = MissingExtraError.from_import(command, extra, missing)

    @group.command(
        name,
        help=f"Not installed: needs the {extra} extra.",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    @reports_errors(command)
    def unavailable() -> None:
        raise error


app.add_typer(stack_app, name="stack")
app.add_typer(trunk_app, name="trunk")
app.add_typer(rules_app, name="rules")
app.command("simulate")(simulate)
try:
    from switchboard.service.cli import explain, serve, token
    from switchboard.service.jobs_cli import jobs_app
except ImportError as no_service:  # a base install: the service extra is not there
    for command in ("serve", "explain", "jobs", "token"):
        register_missing(app, command, "service", no_service)
else:
    app.command("serve")(serve)
    app.command("explain")(explain)
    app.add_typer(jobs_app, name="jobs")
    app.command("token")(token)
app.command("doctor")(doctor)
app.add_typer(agent_app, name="agent")


@app.command("dev")
@reports_errors("dev")
def dev(
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="No local stack: the service and console against the existing project in "
            "LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET (Cloud or self-hosted).",
        ),
    ] = False,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            help="With --remote: your agent worker command, e.g. "
            '--agent "python qual_agent.py dev" (repeatable; same LIVEKIT_*, stopped with dev).',
        ),
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="With --remote: rules file ($SWITCHBOARD_RULES)."),
    ] = None,
    port: Annotated[
        int, typer.Option(help="With --remote: the service's port (127.0.0.1).")
    ] = 8787,
    public_url: Annotated[
        str, typer.Option(help="With --remote: the service's address as LiveKit reaches it.")
    ] = "",
    sip_address: Annotated[
        str, typer.Option(help="With --remote: the SIP host[:port] callers dial.")
    ] = "",
    departure_timeout: Annotated[
        int, typer.Option(help="Local stack: room departure_timeout (s).")
    ] = 20,
    empty_timeout: Annotated[int, typer.Option(help="Local stack: room empty_timeout (s).")] = 300,
) -> None:
    """Run the whole system locally (stack, dispatcher, agents, console), or with --remote the
    service and console against an existing LiveKit project, until Ctrl-C."""
    try:
        import switchboard.service.app  # noqa: F401  (dev runs `switchboard serve`)
        from switchboard.dev import run_dev, run_remote
    except ImportError as no_service:
        raise MissingExtraError.from_import("dev", "service", no_service) from None
    if agent and not remote:
        raise UsageError("--agent needs --remote (make dev runs the shipped agents)")
    try:
        if remote:
            run_remote(
                rules=rules,
                agent_commands=agent or [],
                port=port,
                public_url=public_url,
                sip_address=sip_address,
            )
        else:
            run_dev(departure_timeout=departure_timeout, empty_timeout=empty_timeout)
    except KeyboardInterrupt:  # during start-up: what was started is already stopped
        raise typer.Exit(130) from None


@app.command("call")
@reports_errors("call")
def call(
    number: Annotated[str, typer.Argument(help="The number to call, e.g. +19497710000.")],
    sip_address: Annotated[
        str,
        typer.Option(
            "--sip-address",
            help="host[:port] of livekit-sip (make dev and dev --remote print it).",
        ),
    ],
    caller: Annotated[
        str, typer.Option("--from", help="Your number, as the callee sees it (sip.phoneNumber).")
    ] = "",
    audio: Annotated[
        str,
        typer.Option(help="none (silence; the agents' words are printed), alsa or pulse."),
    ] = "none",
) -> None:
    """Call a number over a real SIP leg (baresip) and answer by keypad: digits are DTMF.

    With LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET set, prints what the agents say.
    An empty line hangs up.
    """
    import secrets

    if audio not in ("none", "alsa", "pulse"):
        raise UsageError(f"--audio {audio!r}: choose none, alsa or pulse")
    try:
        from switchboard.call import CallRequest, place_call
        from switchboard.settings import load_settings
    except ImportError as no_service:
        raise MissingExtraError.from_import("call", "service", no_service) from None
    settings = load_settings()
    # A fresh caller number by default, so the call is easy to tell apart in the console.
    caller = caller or f"+1555{secrets.randbelow(10**7):07d}"
    request = CallRequest(number=number, sip_address=sip_address, caller=caller, audio=audio)
    raise typer.Exit(place_call(request, settings))


if __name__ == "__main__":
    app()
