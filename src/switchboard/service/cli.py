"""The service commands: serve, explain and token (mounted in switchboard.cli)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from switchboard.cli_errors import reports_errors
from switchboard.errors import ConfigError, SwitchboardError
from switchboard.livekit import LiveKitClient, join_token
from switchboard.rules import agents_for_join, load_rules
from switchboard.service.history import call_history
from switchboard.settings import Settings, load_settings
from switchboard.store import Store
from switchboard.tracing import CallTrace

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules YAML file (default: $SWITCHBOARD_RULES).", dir_okay=False),
]
StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL (default: $SWITCHBOARD_STORE_URL, else SQLite)."),
]


@reports_errors("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
    rules: RulesOption = None,
    store: StoreOption = None,
    print_login_link: Annotated[
        bool,
        typer.Option(
            "--print-login-link",
            help="Print a one-time console login link (valid 5 minutes) at start.",
        ),
    ] = False,
) -> None:
    """Run the webhook service (POST /livekit/webhook, /token, /healthz, /readyz, /metrics).

    Reads LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and SWITCHBOARD_* from the
    environment (docs/service.md). Point livekit-server's webhook.urls at
    http://HOST:PORT/livekit/webhook.
    """
    import uvicorn

    from switchboard.logs import configure_logging
    from switchboard.service.app import create_app

    settings = load_settings(rules=rules, store_url=store)
    settings.require_livekit()
    settings.require_rules()
    app = create_app(settings)
    if print_login_link:
        _print_login_link(settings, host, port)
    configure_logging()
    uvicorn.run(app, host=host, port=port, log_level="info")


def _print_login_link(settings: Settings, host: str, port: int) -> None:
    from switchboard.console import _auth

    if settings.token_secret is None or not settings.token_secret.get_secret_value():
        raise ConfigError(
            "--print-login-link needs SWITCHBOARD_TOKEN_SECRET (the console is off without it)"
        )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    link = _auth.login_link(f"http://{shown}:{port}", _auth.PROCESS_LOGIN_LINKS.issue())
    typer.echo(f"console login link (works once, for 5 minutes): {link}", err=True)


@reports_errors("explain")
def explain(
    room: Annotated[str, typer.Argument(help="The room name.")],
    store: StoreOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    timeline_only: Annotated[
        bool, typer.Option("--timeline", help="Only the timeline and decisions, no waterfall.")
    ] = False,
) -> None:
    """Explain a call: its waterfall (a lane per participant, a bar per step, what went wrong
    and the fix), then the timeline, the matched rules and why, and the server's answers.

    Reads the store (the rooms the call led to as well); with LIVEKIT_* set, also shows the
    server's current dispatches and participants. Lines are cut at 100 columns; --timeline
    prints the timeline whole, without the waterfall; --json has the waterfall under "trace".
    """
    settings = load_settings(store_url=store)
    report, trace = asyncio.run(_explain(settings, room))
    if json_output:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    typer.echo(f"room {room}")
    fit = _full if timeline_only else _fit
    if not timeline_only:
        from rich.console import Console

        from switchboard.tracing.render import WIDTH, render_waterfall

        Console(width=WIDTH, highlight=False, soft_wrap=False).print(render_waterfall(trace))
        typer.echo("timeline:")
    if not report["timeline"]:
        typer.echo("  nothing recorded for this room in the store")
    for entry in report["timeline"]:
        typer.echo(fit(f"  {entry['at']}  {entry['kind']:<18} {entry['summary']}"))
    for decision in report["decisions"]:
        text = decision["explanation"].get("text", "")
        typer.echo(f"\ndecision on {decision['event_id']}: rule {decision['rule']}")
        for line in text.splitlines():
            typer.echo(fit(f"    {line}"))
    live = report.get("server")
    if live is not None:
        typer.echo("\nserver now:")
        if "error" in live:
            typer.echo(f"  {live['error']}")
        elif not live["open"]:
            typer.echo("  the room is not open on the server (closed, or never created)")
        else:
            typer.echo(f"  dispatches: {', '.join(live['dispatches']) or 'none'}")
            people = [f"{p['identity']} ({p['kind']})" for p in live["participants"]]
            typer.echo(f"  participants: {', '.join(people) or 'none'}")


def _fit(line: str) -> str:
    """With the waterfall, every line fits its 100 columns; --timeline prints them whole."""
    from switchboard.tracing.render import WIDTH

    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


def _full(line: str) -> str:
    return line


async def _explain(settings: Settings, room: str) -> tuple[dict[str, Any], CallTrace]:
    async with await Store.open(settings.store_url) as opened:
        report, trace = await call_history(opened, room)
    if settings.has_livekit:
        report["server"] = await _live(settings, room)
    return report, trace


async def _live(settings: Settings, room: str) -> dict[str, Any]:
    async with _client(settings) as client:
        try:
            # ListDispatch of a closed room is a 503 after seconds of retries, not an empty
            # list (semantics suite), and a closed room is the usual subject of "why".
            if await client.get_room(room) is None:
                return {"open": False}
            dispatches = await client.list_dispatches(room)
            participants = await client.list_participants(room)
        except SwitchboardError as exc:
            return {"error": str(exc)}
    return {
        "open": True,
        "dispatches": [d.agent_name or '"" (automatic)' for d in dispatches],
        "participants": [{"identity": p.identity, "kind": p.kind} for p in participants],
    }


@reports_errors("token")
def token(
    room: Annotated[str, typer.Option("--room", help="Room to join.")],
    identity: Annotated[str, typer.Option("--identity", help="Participant identity.")],
    rules: RulesOption = None,
    room_metadata: Annotated[
        str, typer.Option(help="Room metadata the rules see (and the room gets if created).")
    ] = "",
) -> None:
    """Print a join JWT whose RoomConfiguration.agents come from the rules.

    Needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET. The agent list goes to stderr.
    """
    settings = load_settings(rules=rules)
    compiled = load_rules(settings.require_rules())
    if not (settings.livekit_api_key and settings.livekit_api_secret.get_secret_value()):
        raise ConfigError("LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set to sign a token")
    agents = agents_for_join(compiled, room, room_metadata, identity)
    typer.echo(f"agents: {', '.join(a.agent for a in agents) or 'none'}", err=True)
    typer.echo(
        join_token(
            settings.livekit_api_key,
            settings.livekit_api_secret.get_secret_value(),
            room=room,
            identity=identity,
            agents=agents,
            room_metadata=room_metadata,
        )
    )


def _client(settings: Settings) -> LiveKitClient:
    return LiveKitClient(
        settings.livekit_url,
        settings.livekit_api_key,
        settings.livekit_api_secret.get_secret_value(),
    )
