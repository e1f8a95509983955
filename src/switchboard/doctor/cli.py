"""`switchboard doctor`: the typer command (mounted by `switchboard.cli`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import aiohttp
import typer
from livekit import api
from rich.console import Console

from switchboard.cli_errors import reports_errors
from switchboard.doctor.checks import CHECKS, run_checks
from switchboard.doctor.findings import exit_code
from switchboard.doctor.inventory import Inventory, Limits
from switchboard.doctor.live import PROBE_METADATA, load_from_server, probe
from switchboard.doctor.loaders import load_paths
from switchboard.doctor.probe_safety import probe_risks
from switchboard.doctor.report import OutputFormat, render_json, render_table, render_text
from switchboard.doctor.suppressions import (
    Ignore,
    SuppressionError,
    apply_suppressions,
    check_codes,
    find_config_files,
    load_config_ignores,
)
from switchboard.errors import ExitCode, SwitchboardError, UsageError
from switchboard.settings import Settings, load_settings

CANNOT_RUN = ExitCode.CANNOT_RUN


class DoctorError(SwitchboardError):
    """The doctor could not run: LiveKit unreachable, or the probe refused (exit 3)."""


@reports_errors("doctor")
def doctor(
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            exists=True,
            help="A file or directory to check; repeatable. Takes SIP trunk and dispatch-rule "
            "JSON (as `lk` and the dashboard export them), Switchboard rules YAML, agent and "
            "service code (.py, .ts/.tsx/.js), .env files and launch files (Procfile, shell, "
            "compose: `switchboard agent NAME`). A directory means every file "
            "under it (node_modules, .venv and .git are skipped).",
        ),
    ] = None,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="Also read the live server: SIP inbound/outbound trunks, dispatch rules, rooms, "
            "their dispatches (and jobs) and participants. LiveKit lists no workers, so what runs "
            "is inferred from rooms. Uses LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.",
        ),
    ] = False,
    run_probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Create a throw-away room `switchboard-probe-<random>` with no agent list, wait, "
            "report which agents joined (i.e. whether an unnamed worker is registered) and "
            "delete the room. An agent that joins runs its entrypoint for real, so the probe "
            "refuses (exit 3) unless the scanned files show it is safe, or --yes is given. "
            "Uses the LIVEKIT_* variables.",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Run --probe even when an agent joining the probe room may act (dial, "
            "dispatch) or the doctor cannot tell.",
        ),
    ] = False,
    probe_wait: Annotated[
        float, typer.Option("--probe-wait", min=0.5, help="Seconds to wait for agents to join.")
    ] = 5.0,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="text: one `path:line: CODE severity: title` line per finding, then why, "
            "evidence and fix (like ruff and mypy); table: a rich table; json: for machines.",
        ),
    ] = OutputFormat.TEXT,
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Silence a check code (repeatable, or comma-separated: SB202,SB106). Also "
            "read: `ignore = [...]` under [tool.switchboard.doctor] in pyproject.toml or [doctor] "
            "in switchboard.toml, and `# switchboard: ignore[SB202]` comments.",
        ),
    ] = None,
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

    Exit status (suppressed findings do not count): 0 none or info only, 1 warnings, 2 errors
    (and usage errors), 3 could not run (or --probe refused).
    """
    if not files and not server and not run_probe:
        raise UsageError("nothing to check: pass --file PATH, --server or --probe")
    ignores = _ignores(ignore or [], files or [])
    inventory = load_paths(files or [])
    if server or run_probe:
        inventory = inventory.merge(
            _read_live(inventory, server=server, run_probe=run_probe, wait=probe_wait, yes=yes)
        )
    inventory = inventory.merge(
        Inventory(
            limits=Limits(
                min_departure_timeout=min_departure_timeout, min_empty_timeout=min_empty_timeout
            )
        )
    )
    findings, suppressed = apply_suppressions(run_checks(inventory), inventory, ignores)
    if json_output or output_format is OutputFormat.JSON:
        typer.echo(render_json(findings, inventory, suppressed))
    elif output_format is OutputFormat.TABLE:
        render_table(findings, inventory, Console(), suppressed)
    else:
        render_text(findings, inventory, Console(highlight=False), suppressed)
    raise typer.Exit(exit_code(findings))


def _ignores(options: list[str], files: list[Path]) -> list[Ignore]:
    known = [check.code.code for check in CHECKS]
    try:
        codes = [code for option in options for code in option.split(",")]
        found = [Ignore(check_codes(codes, "--ignore", known), "--ignore")] if codes else []
        for config in find_config_files([*files, Path.cwd()]):
            found.append(load_config_ignores(config, known))
    except SuppressionError as error:
        raise UsageError(str(error)) from None
    return found


def _read_live(
    known: Inventory, *, server: bool, run_probe: bool, wait: float, yes: bool
) -> Inventory:
    settings = load_settings()
    settings.require_livekit("doctor --server/--probe")
    try:
        return asyncio.run(
            _live(settings, known, server=server, run_probe=run_probe, wait=wait, yes=yes)
        )
    except (aiohttp.ClientError, TimeoutError, api.TwirpError) as error:
        raise DoctorError(f"cannot reach LiveKit at {settings.livekit_url}: {error}") from None


async def _live(
    settings: Settings,
    known: Inventory,
    *,
    server: bool,
    run_probe: bool,
    wait: float,
    yes: bool,
) -> Inventory:
    url = settings.livekit_url
    secret = settings.livekit_api_secret.get_secret_value()
    async with api.LiveKitAPI(url, settings.livekit_api_key, secret) as lkapi:
        inventory = await load_from_server(lkapi) if server else Inventory()
        if server:
            inventory.server_url = url
        if run_probe:
            risks = probe_risks(known.merge(inventory), PROBE_METADATA)
            if risks and not yes:
                raise DoctorError(
                    "--probe refused: the probe room is created without an agent list, and an "
                    "agent that joins it runs its entrypoint for real:\n  - "
                    + "\n  - ".join(risks)
                    + "\nRun it anyway with --yes (the room is deleted after --probe-wait "
                    "seconds, even on Ctrl-C), or name the workers (agent_name) first."
                )
            inventory.probe = await probe(lkapi, wait_seconds=wait)
        return inventory
