"""The dispatch queue: enqueue once per (room, agent), claim with a lease, complete or fail."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Update, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._room_proof import room_seen_open
from switchboard.store._rows import job_from_row
from switchboard.store._schema import dispatch_attempts, dispatch_jobs
from switchboard.store._sql import insert_unless_exists
from switchboard.store._types import JSONDocument
from switchboard.store.backoff import Backoff
from switchboard.store.models import AttemptResult, Completion, Job, JobStatus

_jobs = dispatch_jobs.c
_attempts = dispatch_attempts.c
_RELEASED: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
# One job per room session and agent, ever.
JOB_KEY: Final = ("room_name", "room_sid", "agent_name")


async def enqueue(
    connection: AsyncConnection,
    *,
    room_name: str,
    room_sid: str,
    agent_name: str,
    metadata: str,
    event_id: str,
    at: datetime,
) -> bool:
    """Create the job for (room, agent), due now; False if that room session already has one."""
    values = job_row(room_name, room_sid, agent_name, metadata, event_id, at)
    return await insert_unless_exists(connection, dispatch_jobs, values, JOB_KEY) is not None


def job_row(
    room_name: str, room_sid: str, agent_name: str, metadata: str, event_id: str, at: datetime
) -> dict[str, Any]:
    """The row of a new job, due at ``at``; unique per ``JOB_KEY``."""
    return {
        "room_name": room_name,
        "room_sid": room_sid,
        "agent_name": agent_name,
        "agent_metadata": metadata,
        "event_id": event_id,
        "status": JobStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


async def claim_due(
    connection: AsyncConnection,
    *,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    max_attempts: int | None,
    now: datetime,
) -> list[Job]:
    """Lease up to ``limit`` due jobs to ``worker_id``: pending ones whose time has come and
    claimed ones whose lease expired (their worker died).

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass over each other's
    rows; SQLite has one writer at a time (``BEGIN IMMEDIATE``), which serializes claims.
    Each first attempt comes with its ``room_seen_at`` (``_room_proof``), read in the same
    transaction.
    """
    due = (
        select(_jobs.job_id, _jobs.status, _jobs.attempts)
        .where(
            or_(
                and_(_jobs.status == JobStatus.PENDING, _jobs.next_attempt_at <= now),
                and_(_jobs.status == JobStatus.CLAIMED, _jobs.lease_expires_at <= now),
            )
        )
        .order_by(_jobs.next_attempt_at, _jobs.job_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await connection.execute(due)).mappings().all()
    expired = [row for row in rows if row["status"] == JobStatus.CLAIMED]
    if expired:
        await _close_expired_attempts(connection, [row["job_id"] for row in expired], now)
    exhausted = {
        row["job_id"]: row["attempts"]
        for row in expired
        if max_attempts is not None and row["attempts"] >= max_attempts
    }
    for job_id, attempts in exhausted.items():
        reason = (
            f"gave up after {attempts} attempts: each time the worker's lease expired before "
            "it reported back (it crashed or hung on this job)"
        )
        await connection.execute(
            update(dispatch_jobs)
            .where(_jobs.job_id == job_id)
            .values(status=JobStatus.DEAD, dead_reason=reason, finished_at=now, **_RELEASED)
        )
    claimable = [row["job_id"] for row in rows if row["job_id"] not in exhausted]
    if not claimable:
        return []
    claimed = await connection.execute(
        update(dispatch_jobs)
        .where(_jobs.job_id.in_(claimable))
        .values(
            status=JobStatus.CLAIMED,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=_jobs.attempts + 1,
        )
        .returning(*dispatch_jobs.columns)
    )
    jobs = sorted(
        (job_from_row(row) for row in claimed.mappings()),
        key=lambda job: (job.next_attempt_at, job.job_id),
    )
    if not jobs:
        return []
    seen = await room_seen_open(connection, jobs)
    jobs = [replace(job, room_seen_at=seen.get(job.job_id)) for job in jobs]
    await connection.execute(
        insert(dispatch_attempts),
        [
            {
                "job_id": job.job_id,
                "attempt": job.attempts,
                "room_name": job.room_name,
                "worker_id": worker_id,
                "started_at": now,
            }
            for job in jobs
        ],
    )
    return jobs


async def _close_expired_attempts(
    connection: AsyncConnection, job_ids: list[int], now: datetime
) -> None:
    await connection.execute(
        update(dispatch_attempts)
        .where(_attempts.job_id.in_(job_ids), _attempts.finished_at.is_(None))
        .values(
            finished_at=now,
            result=AttemptResult.LEASE_EXPIRED,
            error="the lease expired before the worker reported back",
        )
    )


async def complete(
    connection: AsyncConnection, completions: Sequence[Completion], *, now: datetime
) -> list[bool]:
    """Mark the jobs succeeded; per completion, False if its job already was (another worker
    finished it first, or an earlier completion of the same call).

    Success is recorded even when this worker's lease expired meanwhile: the dispatch exists
    on the server either way, and the store should say so. Three statements for any number of
    jobs; the rows are locked in id order, so concurrent batches cannot deadlock.
    """
    if not completions:
        return []
    ids = sorted({c.job.job_id for c in completions})
    current = await connection.execute(
        select(_jobs.job_id, _jobs.status)
        .where(_jobs.job_id.in_(ids))
        .order_by(_jobs.job_id)
        .with_for_update()
    )
    # A job id the table does not hold counts as finished: nothing to mark.
    finished = set(ids) - {row.job_id for row in current if row.status != JobStatus.SUCCEEDED}
    done: list[bool] = []
    job_rows: list[dict[str, Any]] = []
    for completion in completions:
        job_id = completion.job.job_id
        done.append(job_id not in finished)
        if job_id not in finished:
            finished.add(job_id)
            answer = dict(completion.server_answer)
            job_rows.append({"b_job": job_id, "b_outcome": completion.outcome, "b_answer": answer})
    if job_rows:
        await connection.execute(
            update(dispatch_jobs)
            .where(_jobs.job_id == bindparam("b_job"))
            .values(
                status=JobStatus.SUCCEEDED,
                outcome=bindparam("b_outcome"),
                server_answer=bindparam("b_answer", type_=JSONDocument),
                dead_reason=None,
                finished_at=now,
                **_RELEASED,
            ),
            job_rows,
        )
    await connection.execute(
        update(dispatch_attempts)
        .where(_attempts.job_id == bindparam("b_job"), _attempts.attempt == bindparam("b_attempt"))
        .values(
            finished_at=now,
            result=AttemptResult.SUCCEEDED,
            error=None,
            server_answer=bindparam("b_answer", type_=JSONDocument),
        ),
        [
            {"b_job": c.job.job_id, "b_attempt": c.job.attempts, "b_answer": dict(c.server_answer)}
            for c in completions
        ],
    )
    return done


async def fail(
    connection: AsyncConnection,
    job: Job,
    *,
    error: str,
    retryable: bool,
    max_attempts: int,
    backoff: Backoff,
    now: datetime,
    rng: random.Random | None = None,
) -> Job | None:
    """Schedule a retry with backoff, or dead-letter; None if the claim is no longer this one's.

    A claim is stale when its lease expired and the job was reclaimed or finished since; the
    error is then only noted on the stale attempt and the job is left to its current owner.
    """
    current = (
        (
            await connection.execute(
                select(dispatch_jobs).where(_jobs.job_id == job.job_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if (
        current is None
        or current["status"] != JobStatus.CLAIMED
        or current["lease_owner"] != job.lease_owner
        or current["attempts"] != job.attempts
    ):
        await connection.execute(
            _attempt_of(job).values(
                finished_at=func.coalesce(_attempts.finished_at, now),
                result=func.coalesce(_attempts.result, AttemptResult.LEASE_EXPIRED.value),
                error=error,
            )
        )
        return None
    if retryable and job.attempts < max_attempts:
        retry_at = now + timedelta(seconds=backoff.delay(job.attempts, rng))
        job_values: dict[str, Any] = {
            "status": JobStatus.PENDING,
            "next_attempt_at": retry_at,
            "last_error": error,
        }
        attempt_values: dict[str, Any] = {"result": AttemptResult.RETRY, "retry_at": retry_at}
    else:
        reason = (
            f"gave up after {job.attempts} attempts; last error: {error}"
            if retryable
            else f"not retryable: {error}"
        )
        job_values = {
            "status": JobStatus.DEAD,
            "last_error": error,
            "dead_reason": reason,
            "finished_at": now,
        }
        attempt_values = {"result": AttemptResult.DEAD}
    updated = await connection.execute(
        update(dispatch_jobs)
        .where(_jobs.job_id == job.job_id)
        .values(**job_values, **_RELEASED)
        .returning(*dispatch_jobs.columns)
    )
    await connection.execute(
        _attempt_of(job).values(finished_at=now, error=error, **attempt_values)
    )
    return job_from_row(updated.mappings().one())


def _attempt_of(job: Job) -> Update:
    return update(dispatch_attempts).where(
        _attempts.job_id == job.job_id, _attempts.attempt == job.attempts
    )


async def revive(
    connection: AsyncConnection, job_ids: list[int] | None, now: datetime
) -> list[Job]:
    """Put dead-lettered jobs back in the queue, due now: each gets one more attempt (its
    attempt count goes on, so a retryable failure dead-letters it again). ``job_ids`` None
    means every dead letter. Returns the jobs as they were, with their ``dead_reason``."""
    dead = select(dispatch_jobs).where(_jobs.status == JobStatus.DEAD).with_for_update()
    if job_ids is not None:
        dead = dead.where(_jobs.job_id.in_(job_ids))
    jobs = [job_from_row(row) for row in (await connection.execute(dead)).mappings()]
    if jobs:
        await connection.execute(
            update(dispatch_jobs)
            .where(_jobs.job_id.in_([job.job_id for job in jobs]))
            .values(
                status=JobStatus.PENDING, next_attempt_at=now, dead_reason=None, finished_at=None
            )
        )
    return jobs
