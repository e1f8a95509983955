"""The ``switchboard`` command: one entry point, each capability a sub-command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from switchboard.doctor.cli import doctor
from switchboard.rules.cli import rules_app, simulate
from switchboard.stack.cli import stack_app
from switchboard.trunk_cli import trunk_app

app = typer.Typer(
    help="Switchboard: rules-driven agent dispatch, call flows and diagnostics for LiveKit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def missing_extra(command: str, extra: str, missing: ImportError) -> NoReturn:
    """One line naming the extra ``command`` needs, then exit 2 (its packages are missing)."""
    if (missing.name or "switchboard").partition(".")[0] == "switchboard":
        raise missing  # our own module failed to import: a bug, not a missing extra
    typer.echo(
        f"error: 'switchboard {command}' needs the {extra} extra ({missing.name} is not "
        f"installed): pip install 'livekit-switchboard[{extra}]'",
        err=True,
    )
    raise typer.Exit(2)


def register_missing(group: typer.Typer, command: str, extra: str, missing: ImportError) -> None:
    """Register ``command`` on an install without ``extra``: whatever its arguments, it fails
    with ``missing_extra``."""
    name = command.rsplit(" ", 1)[-1]

    @group.command(
        name,
        help=f"Not installed: needs the {extra} extra.",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def unavailable() -> None:
        missing_extra(command, extra, missing)


app.add_typer(stack_app, name="stack")
app.add_typer(trunk_app, name="trunk")
try:
    from switchboard.service.cli import apply, explain, serve, token
    from switchboard.service.jobs_cli import jobs_app
except ImportError as no_service:  # a base install: the service extra is not there
    for command in ("rules apply", "serve", "explain", "jobs", "token"):
        register_missing(
            rules_app if command == "rules apply" else app, command, "service", no_service
        )
    app.add_typer(rules_app, name="rules")
    app.command("simulate")(simulate)
else:
    rules_app.command("apply")(apply)
    app.add_typer(rules_app, name="rules")
    app.command("simulate")(simulate)
    app.command("serve")(serve)
    app.command("explain")(explain)
    app.add_typer(jobs_app, name="jobs")
    app.command("token")(token)
app.command("doctor")(doctor)


@app.command(
    "agent",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def agent(
    ctx: typer.Context,
    name: str = typer.Argument(help="qualifier or outbound-caller."),
) -> None:
    """Run one of the shipped agents as a named livekit-agents worker (--help for its options)."""
    from switchboard.errors import SwitchboardError

    try:
        from switchboard.agents.launcher import run
    except ImportError as no_agents:
        missing_extra("agent", "agents", no_agents)
    try:
        run(name, list(ctx.args))
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("dev")
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
    from switchboard.errors import SwitchboardError

    try:
        import switchboard.service.app  # noqa: F401  (dev runs `switchboard serve`)
        from switchboard.dev import run_dev, run_remote
    except ImportError as no_service:
        missing_extra("dev", "service", no_service)
    if agent and not remote:
        typer.echo("error: --agent needs --remote (make dev runs the shipped agents)", err=True)
        raise typer.Exit(2)
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
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # during start-up: what was started is already stopped
        raise typer.Exit(130) from None


@app.command("call")
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

    from switchboard.errors import SwitchboardError

    if audio not in ("none", "alsa", "pulse"):
        typer.echo(f"error: --audio {audio!r}: choose none, alsa or pulse", err=True)
        raise typer.Exit(2)
    try:
        from switchboard.call import CallRequest, place_call
        from switchboard.settings import load_settings
    except ImportError as no_service:
        missing_extra("call", "service", no_service)
    try:
        settings = load_settings()
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    # A fresh caller number by default, so the call is easy to tell apart in the console.
    caller = caller or f"+1555{secrets.randbelow(10**7):07d}"
    request = CallRequest(number=number, sip_address=sip_address, caller=caller, audio=audio)
    raise typer.Exit(place_call(request, settings))


if __name__ == "__main__":
    app()
