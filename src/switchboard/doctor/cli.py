"""`switchboard doctor`: the typer command (mounted by `switchboard.cli`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, NoReturn

import aiohttp
import typer
from livekit import api
from rich.console import Console
from rich.text import Text

from switchboard.doctor.checks import run_checks
from switchboard.doctor.findings import exit_code
from switchboard.doctor.inventory import Inventory, Limits
from switchboard.doctor.live import load_from_server, probe
from switchboard.doctor.loaders import load_paths
from switchboard.doctor.report import render_json, render_table

CANNOT_RUN = 3
_ENVIRONMENT = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def doctor(
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            exists=True,
            help="A file or directory to check; repeatable. Takes SIP trunk and dispatch-rule "
            "JSON (as `lk` and the dashboard export them), Switchboard rules YAML, agent and "
            "service code (.py, .ts/.tsx/.js) and .env files. A directory means every file "
            "under it (node_modules, .venv and .git are skipped).",
        ),
    ] = None,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="Also read the live server: SIP inbound/outbound trunks, dispatch rules, rooms "
            "and their dispatches. Uses LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.",
        ),
    ] = False,
    run_probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Create a throw-away room `switchboard-probe-<random>` with no agent list, wait, "
            "report which agents joined (i.e. whether an unnamed worker is registered) and "
            "delete the room. An agent that joins runs its entrypoint for real. Uses the "
            "LIVEKIT_* variables.",
        ),
    ] = False,
    probe_wait: Annotated[
        float, typer.Option("--probe-wait", min=0.5, help="Seconds to wait for agents to join.")
    ] = 5.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print findings as JSON instead of a table.")
    ] = False,
    min_departure_timeout: Annotated[
        int,
        typer.Option(help="Warn (SB303) when a room's departure_timeout is below this (s)."),
    ] = 10,
    min_empty_timeout: Annotated[
        int, typer.Option(help="Warn (SB303) when a room's empty_timeout is below this (s).")
    ] = 60,
) -> None:
    """Check a LiveKit deployment for dispatch, SIP, webhook and frontend mistakes.

    Reads any mix of files (--file), the live server (--server) and a live probe (--probe).

    Each finding has a code, a severity, evidence (file:line or server object) and a fix,
    and is explained in docs/doctor.md#<code>.

    Exit status: 0 none or info only, 1 warnings, 2 errors (and usage errors), 3 could not run.
    """
    if not files and not server and not run_probe:
        raise typer.BadParameter("nothing to check: pass --file PATH, --server or --probe")
    inventory = load_paths(files or [])
    if server or run_probe:
        inventory = inventory.merge(_read_live(server=server, run_probe=run_probe, wait=probe_wait))
    inventory = inventory.merge(
        Inventory(
            limits=Limits(
                min_departure_timeout=min_departure_timeout, min_empty_timeout=min_empty_timeout
            )
        )
    )
    findings = run_checks(inventory)
    if json_output:
        typer.echo(render_json(findings, inventory))
    else:
        render_table(findings, inventory, Console())
    raise typer.Exit(exit_code(findings))


def _read_live(*, server: bool, run_probe: bool, wait: float) -> Inventory:
    missing = [name for name in _ENVIRONMENT if not os.environ.get(name)]
    if missing:
        _fail(
            f"{', '.join(missing)} not set: --server and --probe need LIVEKIT_URL, "
            "LIVEKIT_API_KEY and LIVEKIT_API_SECRET in the environment."
        )
    try:
        return asyncio.run(_live(server=server, run_probe=run_probe, wait=wait))
    except (aiohttp.ClientError, TimeoutError, api.TwirpError) as error:
        _fail(f"cannot reach LiveKit at {os.environ['LIVEKIT_URL']}: {error}")


async def _live(*, server: bool, run_probe: bool, wait: float) -> Inventory:
    url = os.environ["LIVEKIT_URL"]
    async with api.LiveKitAPI(url) as lkapi:
        inventory = await load_from_server(lkapi) if server else Inventory()
        if server:
            inventory.server_url = url
        if run_probe:
            inventory.probe = await probe(lkapi, wait_seconds=wait)
        return inventory


def _fail(message: str) -> NoReturn:
    Console(stderr=True).print(Text.assemble(("error: ", "bold red"), message))
    raise typer.Exit(CANNOT_RUN)
