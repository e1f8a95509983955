"""``switchboard jobs``: the dispatch jobs that gave up (dead letters), and retrying them."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from switchboard.cli_errors import reports_errors
from switchboard.errors import ExitCode, UsageError
from switchboard.service.cli import StoreOption
from switchboard.settings import load_settings
from switchboard.store import Job, Store

jobs_app = typer.Typer(
    help="Dispatch jobs that gave up (dead letters), and retrying them.", no_args_is_help=True
)


@jobs_app.command("dead")
@reports_errors("jobs")
def dead(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.")] = 50,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dead-lettered dispatch jobs with the reason each gave up."""
    settings = load_settings(store_url=store)

    async def run() -> list[Job]:
        async with await Store.open(settings.store_url) as opened:
            return await opened.dead_letters(limit)

    jobs = asyncio.run(run())
    if json_output:
        typer.echo(json.dumps([_job_json(job) for job in jobs], indent=2, ensure_ascii=False))
        return
    if not jobs:
        typer.echo("no dead letters")
    for job in jobs:
        finished = job.finished_at.isoformat(timespec="seconds") if job.finished_at else "?"
        typer.echo(f"{job.job_id:>6}  {finished}  {job.room_name}  {job.agent_name}")
        typer.echo(f"        {job.dead_reason}")


@jobs_app.command("retry")
@reports_errors("jobs")
def retry(
    job_ids: Annotated[
        list[int] | None, typer.Argument(help="Job ids from `switchboard jobs dead`.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Retry every dead letter.")] = False,
    store: StoreOption = None,
) -> None:
    """Queue dead-lettered jobs again for one more attempt each, due now.

    A running `switchboard serve` makes the attempt (it still checks that the room exists and
    that the agent is not dispatched there already); `switchboard explain ROOM` shows the
    outcome. The room's timeline records a `revived` fact with the reason the job had died.
    """
    if bool(job_ids) == every:
        raise UsageError("name job ids or pass --all (not both)")
    settings = load_settings(store_url=store)

    async def run() -> list[Job]:
        async with await Store.open(settings.store_url) as opened:
            return await opened.revive_dead_letters(None if every else job_ids)

    revived = asyncio.run(run())
    for job in revived:
        typer.echo(f"queued again: job {job.job_id} ({job.agent_name} to {job.room_name})")
    skipped = sorted(set(job_ids or []) - {job.job_id for job in revived})
    for job_id in skipped:
        typer.echo(f"skipped: job {job_id} is not a dead letter", err=True)
    if not revived:
        typer.echo("nothing to retry")
    if skipped:
        raise typer.Exit(ExitCode.FAILED)


def _job_json(job: Job) -> dict[str, object]:
    return {
        "job_id": job.job_id,
        "room": job.room_name,
        "room_sid": job.room_sid,
        "agent": job.agent_name,
        "attempts": job.attempts,
        "dead_reason": job.dead_reason,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
