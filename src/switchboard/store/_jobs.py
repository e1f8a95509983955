"""Read-only views of the dispatch queue: one job, its attempts, dead letters, per-room intents."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._rows import attempt_from_row, job_from_row
from switchboard.store._schema import dispatch_attempts, dispatch_jobs
from switchboard.store.models import Attempt, Job, JobStatus

_jobs = dispatch_jobs.c
_attempts = dispatch_attempts.c
_OPEN = (JobStatus.PENDING, JobStatus.CLAIMED)


async def get_job(connection: AsyncConnection, job_id: int) -> Job | None:
    """The job with this id, if any."""
    query = select(dispatch_jobs).where(_jobs.job_id == job_id)
    row = (await connection.execute(query)).mappings().first()
    return None if row is None else job_from_row(row)


async def attempts_of(connection: AsyncConnection, job_id: int) -> list[Attempt]:
    """Every claim of a job, first to last."""
    query = select(dispatch_attempts).where(_attempts.job_id == job_id).order_by(_attempts.attempt)
    return [attempt_from_row(row) for row in (await connection.execute(query)).mappings()]


async def dead_letters(connection: AsyncConnection, limit: int) -> list[Job]:
    """Dead-lettered jobs, most recent first."""
    query = (
        select(dispatch_jobs)
        .where(_jobs.status == JobStatus.DEAD)
        .order_by(_jobs.finished_at.desc(), _jobs.job_id.desc())
        .limit(limit)
    )
    return [job_from_row(row) for row in (await connection.execute(query)).mappings()]


async def pending_count(connection: AsyncConnection) -> int:
    """Jobs not finished yet: waiting for their time or held by a worker."""
    query = select(func.count()).select_from(dispatch_jobs).where(_jobs.status.in_(_OPEN))
    return int((await connection.execute(query)).scalar_one())


async def jobs_for_rooms(
    connection: AsyncConnection, room_names: Iterable[str], *, unfulfilled_only: bool
) -> dict[str, list[Job]]:
    """The jobs of each named room (all statuses, or only those not succeeded), oldest first.

    Every named room is a key, so a room without any intent maps to an empty list.
    """
    names = sorted(set(room_names))
    found: dict[str, list[Job]] = {name: [] for name in names}
    if not names:
        return found
    query = select(dispatch_jobs).where(_jobs.room_name.in_(names))
    if unfulfilled_only:
        query = query.where(_jobs.status != JobStatus.SUCCEEDED)
    query = query.order_by(_jobs.created_at, _jobs.job_id)
    for row in (await connection.execute(query)).mappings():
        job = job_from_row(row)
        found[job.room_name].append(job)
    return found


async def jobs_of_room(
    connection: AsyncConnection, room_name: str, room_sid: str | None
) -> list[Job]:
    """The jobs of one room (one session of it when ``room_sid`` is given), oldest first."""
    query = select(dispatch_jobs).where(_jobs.room_name == room_name)
    if room_sid is not None:
        query = query.where(_jobs.room_sid == room_sid)
    query = query.order_by(_jobs.created_at, _jobs.job_id)
    return [job_from_row(row) for row in (await connection.execute(query)).mappings()]


async def attempts_of_room(
    connection: AsyncConnection, room_name: str, job_ids: Iterable[int]
) -> list[Attempt]:
    """The attempts on these jobs of one room, oldest first."""
    ids = list(job_ids)
    if not ids:
        return []
    query = (
        select(dispatch_attempts)
        .where(_attempts.room_name == room_name, _attempts.job_id.in_(ids))
        .order_by(_attempts.started_at, _attempts.job_id, _attempts.attempt)
    )
    return [attempt_from_row(row) for row in (await connection.execute(query)).mappings()]
