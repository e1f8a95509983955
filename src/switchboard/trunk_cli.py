"""``switchboard trunk create|list``: the SIP trunks of the server in ``LIVEKIT_URL``.

The same commands for the local stack, a self-hosted server and LiveKit Cloud. ``create``
prints only the new trunk's ID on stdout, so ``ID=$(switchboard trunk create ...)`` works.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from switchboard.cli_errors import reports_errors
from switchboard.errors import UsageError
from switchboard.livekit.client import LiveKitClient
from switchboard.livekit.trunks import (
    Trunk,
    check_address,
    check_number,
    create_inbound_trunk,
    create_outbound_trunk,
    list_trunks,
)
from switchboard.settings import Settings, load_settings

trunk_app = typer.Typer(
    help="Create and list the SIP trunks of the LiveKit server in LIVEKIT_URL.",
    no_args_is_help=True,
)


@trunk_app.command("create")
@reports_errors("trunk")
def create(
    inbound: Annotated[
        list[str] | None,
        typer.Option(
            "--inbound",
            metavar="NUMBER",
            help="An inbound trunk answering this number (repeatable), e.g. +19497710000.",
        ),
    ] = None,
    outbound: Annotated[
        str,
        typer.Option(
            "--outbound",
            metavar="HOST[:PORT]",
            help="An outbound trunk to this SIP address (carrier, PBX or softphone).",
        ),
    ] = "",
    number: Annotated[
        list[str] | None,
        typer.Option(
            "--number", help="Outbound: the number calls come from (repeatable; the first is used)."
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The trunk's name.")] = "",
) -> None:
    """Create one SIP trunk; prints its ID (ST_...) on stdout, what it made on stderr."""
    if bool(inbound) == bool(outbound):
        raise UsageError("give exactly one of --inbound NUMBER or --outbound HOST[:PORT]")
    if inbound and number:
        raise UsageError("--number is for --outbound (an inbound trunk's numbers are --inbound)")
    for each in [*(inbound or []), *(number or [])]:
        check_number(each)
    if outbound:
        check_address(outbound)
    settings = _settings()

    async def run() -> Trunk:
        async with _client(settings) as client:
            if inbound:
                return await create_inbound_trunk(client, name or "inbound", inbound)
            return await create_outbound_trunk(client, name or "outbound", outbound, number or [])

    trunk = asyncio.run(run())
    typer.echo(f"created {trunk.line()}", err=True)
    typer.echo(trunk.trunk_id)


@trunk_app.command("list")
@reports_errors("trunk")
def list_() -> None:
    """Every SIP trunk of the server: ID, direction, name, numbers, address."""
    settings = _settings()

    async def run() -> list[Trunk]:
        async with _client(settings) as client:
            return await list_trunks(client)

    trunks = asyncio.run(run())
    for trunk in trunks:
        typer.echo(trunk.line())
    if not trunks:
        typer.echo("no SIP trunks", err=True)


def _settings() -> Settings:
    settings = load_settings()
    settings.require_livekit()
    return settings


def _client(settings: Settings) -> LiveKitClient:
    secret = settings.livekit_api_secret.get_secret_value()
    return LiveKitClient(settings.livekit_url, settings.livekit_api_key, secret)
