"""``Store``: the one object the service uses to persist events, decisions, jobs and facts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard import defaults
from switchboard.rules.admission import Admission
from switchboard.store import _callers, _events, _facts, _intake, _jobs, _queue, _recoveries
from switchboard.store._callers import Admitted
from switchboard.store._clock import Clock, require_aware, utc_now
from switchboard.store._engine import create_engine, failure_reason
from switchboard.store._migrate import migrate
from switchboard.store._timeline import build_timeline
from switchboard.store._url import DEFAULT_URL, describe, parse_store_url
from switchboard.store.backoff import Backoff
from switchboard.store.errors import (
    MigrationError,
    StoreError,
    StoreUnavailableError,
    UnknownEventError,
)
from switchboard.store.models import (
    Attempt,
    Completion,
    DecisionRecord,
    Dispatch,
    Job,
    JobStatus,
    NewWebhook,
    QueuedCaller,
    RoomFact,
    StoredEvent,
    TimelineEntry,
)

logger = logging.getLogger("switchboard.store")

DEFAULT_BACKOFF: Final = Backoff(
    defaults.BACKOFF_BASE_SECONDS, max_seconds=defaults.BACKOFF_MAX_SECONDS
)
_CONNECTION_FAILURES: Final = (OperationalError, InterfaceError, OSError, TimeoutError)


class Store:
    """Durable idempotency, dispatch queue and audit log over SQLite or PostgreSQL.

    Create it with ``await Store.open(url)``, which also migrates the schema; every method is
    one transaction, safe to call from several tasks and from replicas sharing a PostgreSQL.
    """

    def __init__(self, engine: AsyncEngine, url: URL, revision: str, clock: Clock) -> None:
        self._engine = engine
        self._url = url
        self._clock = clock
        self._closed = False
        self.revision = revision
        """The schema revision the database is at."""

    @classmethod
    async def open(
        cls,
        url: str = DEFAULT_URL,
        *,
        pool_size: int = defaults.STORE_POOL_SIZE,
        clock: Clock = utc_now,
    ) -> Self:
        """Connect to ``url`` and migrate its schema to this code's version; on PostgreSQL keep
        ``pool_size`` connections open (SQLite has one writer and ignores it).

        Raises StoreURLError for a malformed or unsupported URL, StoreUnavailableError when
        the database cannot be reached, MigrationError when its schema is newer than this code.
        """
        parsed = parse_store_url(url)
        engine = create_engine(parsed, pool_size)
        try:
            revision = await migrate(engine)
        except MigrationError:
            await engine.dispose()
            raise
        except (SQLAlchemyError, *_CONNECTION_FAILURES) as exc:
            await engine.dispose()
            raise StoreUnavailableError(
                f"cannot open the store at {describe(parsed)}: {failure_reason(exc, parsed)}"
            ) from None
        logger.info("store opened", extra={"url": describe(parsed), "schema": revision})
        return cls(engine, parsed, revision, clock)

    async def close(self) -> None:
        """Close every connection; the store cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return describe(self._url)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError("the store is closed; open a new one with Store.open(url)")
        try:
            async with self._engine.begin() as connection:
                yield connection
        except _CONNECTION_FAILURES as exc:
            raise StoreUnavailableError(
                f"the store at {self.url} failed: {failure_reason(exc, self._url)}"
            ) from exc

    def _now(self, at: datetime | None = None, name: str = "at") -> datetime:
        return self._clock() if at is None else require_aware(name, at)

    # Events and decisions

    async def record_event(
        self,
        event_id: str,
        event_type: str,
        room_name: str,
        room_sid: str,
        body_json: str,
        received_at: datetime | None = None,
    ) -> bool:
        """Persist a webhook event; True if new, False if this id was already recorded.

        Atomic through the primary key: of concurrent deliveries of one id, in any replica,
        exactly one gets True.
        """
        event = StoredEvent(
            event_id=event_id,
            event_type=event_type,
            room_name=room_name,
            room_sid=room_sid,
            body_json=body_json,
            received_at=self._now(received_at, "received_at"),
        )
        async with self._transaction() as connection:
            return await _events.record_event(connection, event)

    async def record_webhooks(self, webhooks: Sequence[NewWebhook]) -> list[bool]:
        """Record webhook events, each with its decision (and the decision's jobs) and room
        fact, all in one transaction; per webhook, True if recorded, False if its event id
        already was (also by an earlier webhook of the same call): then nothing of it is kept.

        One transaction and a statement per table for a whole batch: under a burst the
        intake's writes, not the HTTP, bound how fast webhooks are acknowledged.
        """
        if not webhooks:
            return []
        async with self._transaction() as connection:
            return await _intake.record_webhooks(connection, webhooks, self._now())

    async def get_event(self, event_id: str) -> StoredEvent | None:
        """The recorded event with this id, if any."""
        async with self._transaction() as connection:
            return await _events.get_event(connection, event_id)

    async def record_decision(
        self,
        event_id: str,
        room_name: str,
        rule_id: str | None,
        dispatches: Sequence[tuple[str, str]],
        explanation: Mapping[str, Any],
        decided_at: datetime | None = None,
    ) -> bool:
        """Record the rules engine's decision on a recorded event and enqueue its dispatches.

        One transaction: a decision never exists without its jobs. ``dispatches`` are
        ``(agent_name, metadata)`` pairs (or ``Dispatch``); ``rule_id`` is None when no rule
        matched. Returns False, enqueuing nothing, if the event was already decided.
        """
        at = self._now(decided_at, "decided_at")
        async with self._transaction() as connection:
            return await _events.record_decision(
                connection,
                event_id=event_id,
                room_name=room_name,
                rule_id=rule_id,
                dispatches=dispatches,
                explanation=explanation,
                decided_at=at,
            )

    async def decisions_for_room(
        self, room_name: str, *, room_sid: str | None = None
    ) -> list[DecisionRecord]:
        """The decisions taken on a room's events, oldest first."""
        async with self._transaction() as connection:
            return await _events.decisions_for_room(connection, room_name, room_sid)

    async def undecided_events(
        self, event_types: Collection[str], *, older_than_seconds: float = 60.0, limit: int = 100
    ) -> list[StoredEvent]:
        """Events of these types recorded but never decided (the process stopped in between)."""
        cutoff = self._clock() - timedelta(seconds=older_than_seconds)
        async with self._transaction() as connection:
            return await _events.undecided_events(
                connection, event_types=event_types, received_before=cutoff, limit=limit
            )

    # Dispatch queue

    async def enqueue_dispatch(
        self,
        room_name: str,
        agent_name: str,
        metadata: str,
        event_id: str,
        *,
        room_sid: str | None = None,
    ) -> bool:
        """Queue the dispatch of ``agent_name`` to a room session; False if it already has one.

        Unique per (room_name, room_sid, agent_name), forever. ``room_sid`` defaults to the
        sid of the recorded event ``event_id``.
        """
        at = self._clock()
        async with self._transaction() as connection:
            if room_sid is None:
                event = await _events.get_event(connection, event_id)
                if event is None:
                    raise UnknownEventError(
                        f"no event {event_id!r} is recorded to take the room sid from; "
                        "record the event first or pass room_sid="
                    )
                room_sid = event.room_sid
            return await _queue.enqueue(
                connection,
                room_name=room_name,
                room_sid=room_sid,
                agent_name=agent_name,
                metadata=metadata,
                event_id=event_id,
                at=at,
            )

    async def claim_due_jobs(
        self,
        worker_id: str,
        limit: int = 10,
        lease_seconds: float = 30.0,
        *,
        max_attempts: int | None = None,
    ) -> list[Job]:
        """Lease up to ``limit`` due jobs to ``worker_id`` for ``lease_seconds``.

        Due means pending and past ``next_attempt_at``, or claimed with an expired lease. No
        two concurrent claimers, in any replica, get the same job. With ``max_attempts``, an
        expired job that already had that many attempts is dead-lettered instead. A first
        attempt carries ``room_seen_at`` when its webhook showed the room session open and the
        store knows of no end to that session.
        """
        if limit < 1 or lease_seconds <= 0:
            raise StoreError(
                f"claim needs limit >= 1 and lease_seconds > 0, got {limit}, {lease_seconds}"
            )
        async with self._transaction() as connection:
            return await _queue.claim_due(
                connection,
                worker_id=worker_id,
                limit=limit,
                lease_seconds=lease_seconds,
                max_attempts=max_attempts,
                now=self._clock(),
            )

    async def complete_job(self, job: Job, outcome: str, server_answer: Mapping[str, Any]) -> bool:
        """Record that the server accepted the dispatch of a claimed job (``outcome`` e.g.
        ``"dispatched"``); False if the job had already succeeded."""
        [done] = await self.complete_jobs([Completion(job, outcome, server_answer)])
        return done

    async def complete_jobs(self, completions: Sequence[Completion]) -> list[bool]:
        """``complete_job`` for many claimed jobs in one transaction; per completion, False if
        its job had already succeeded. All or nothing: when it raises, no job was marked."""
        if not completions:
            return []
        async with self._transaction() as connection:
            return await _queue.complete(connection, completions, now=self._clock())

    async def fail_job(
        self,
        job: Job,
        error: str,
        retryable: bool,
        max_attempts: int = defaults.DISPATCH_MAX_ATTEMPTS,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> Job | None:
        """Record a failed attempt: retry after ``backoff`` or, when not ``retryable`` or out of
        attempts, dead-letter with the reason. Returns the updated job, or None when this
        claim is stale (its lease expired and another worker owns the job now)."""
        if max_attempts < 1:
            raise StoreError(f"max_attempts must be at least 1, got {max_attempts}")
        async with self._transaction() as connection:
            updated = await _queue.fail(
                connection,
                job,
                error=error,
                retryable=retryable,
                max_attempts=max_attempts,
                backoff=backoff,
                now=self._clock(),
            )
        if updated is not None and updated.status is JobStatus.DEAD:
            logger.warning(
                "dispatch dead-lettered",
                extra={
                    "job": updated.job_id,
                    "room": updated.room_name,
                    "agent": updated.agent_name,
                    "reason": updated.dead_reason,
                },
            )
        return updated

    async def get_job(self, job_id: int) -> Job | None:
        """The job with this id, if any."""
        async with self._transaction() as connection:
            return await _jobs.get_job(connection, job_id)

    async def attempts(self, job_id: int) -> list[Attempt]:
        """Every claim of a job and how it ended, first to last."""
        async with self._transaction() as connection:
            return await _jobs.attempts_of(connection, job_id)

    async def dead_letters(self, limit: int = 100) -> list[Job]:
        """Dead-lettered jobs with their ``dead_reason``, most recent first."""
        async with self._transaction() as connection:
            return await _jobs.dead_letters(connection, limit)

    async def revive_dead_letters(self, job_ids: Iterable[int] | None = None) -> list[Job]:
        """Queue dead-lettered jobs again, due now, for one more attempt each (all of them when
        ``job_ids`` is None); each room gets a ``revived`` fact with the reason it had died.
        Returns the revived jobs as they were; ids that are not dead letters are skipped."""
        at = self._clock()
        ids = None if job_ids is None else list(job_ids)
        async with self._transaction() as connection:
            revived = await _queue.revive(connection, ids, at)
            for job in revived:
                await _facts.record_fact(
                    connection,
                    room_name=job.room_name,
                    room_sid=job.room_sid,
                    kind="revived",
                    detail={"job": job.job_id, "agent": job.agent_name, "was": job.dead_reason},
                    at=at,
                )
        return revived

    async def pending_count(self) -> int:
        """Jobs not finished yet (waiting, or held by a worker)."""
        async with self._transaction() as connection:
            return await _jobs.pending_count(connection)

    async def intents_for_rooms(self, room_names: Iterable[str]) -> dict[str, list[Job]]:
        """Every dispatch job of each named room; rooms without any map to ``[]``."""
        async with self._transaction() as connection:
            return await _jobs.jobs_for_rooms(connection, room_names, unfulfilled_only=False)

    async def unfulfilled_intents(self, room_names: Iterable[str]) -> dict[str, list[Job]]:
        """The jobs of each named room that have not succeeded (pending, in flight or dead):
        agents a rule wants there that were not dispatched, for a reconciliation pass."""
        async with self._transaction() as connection:
            return await _jobs.jobs_for_rooms(connection, room_names, unfulfilled_only=True)

    # Caller queue (admission control)

    async def admit_caller(
        self,
        admission: Admission,
        room_name: str,
        room_sid: str,
        event_id: str,
        dispatches: Sequence[Dispatch],
    ) -> Admitted:
        """Serve, queue or overflow a caller under ``admission`` and enqueue the jobs that go
        with it, in one transaction; again for the same room session, what was done then."""
        async with self._transaction() as connection:
            return await _callers.admit(
                connection,
                admission=admission,
                room_name=room_name,
                room_sid=room_sid,
                event_id=event_id,
                dispatches=dispatches,
                now=self._clock(),
            )

    async def release_caller(
        self, room_name: str, room_sid: str, *, agent_name: str | None = None
    ) -> list[QueuedCaller]:
        """Free the room's slot (only when ``agent_name`` served it; None: the room closed) and
        promote the next callers in line, queuing their agents; returns the promoted."""
        async with self._transaction() as connection:
            return await _callers.release(
                connection,
                room_name=room_name,
                room_sid=room_sid,
                agent_name=agent_name,
                now=self._clock(),
            )

    async def expire_waiting_callers(self) -> list[QueuedCaller]:
        """Overflow the waiting callers past their maximum wait; returns them."""
        async with self._transaction() as connection:
            return await _callers.expire(connection, self._clock())

    async def active_callers(self) -> list[QueuedCaller]:
        """Callers being served or waiting under a limit, waiting ones with their position."""
        async with self._transaction() as connection:
            return await _callers.active(connection)

    async def recent_callers(self, limit: int = 200) -> list[QueuedCaller]:
        """The most recent callers under a limit, in any status, oldest first."""
        async with self._transaction() as connection:
            return await _callers.history(connection, limit)

    async def callers_of_rooms(self, room_names: Iterable[str]) -> list[QueuedCaller]:
        """Every caller-queue record of these rooms, oldest first."""
        async with self._transaction() as connection:
            return await _callers.of_rooms(connection, room_names)

    # Recoveries of stranded callers

    async def claim_recovery(
        self,
        room_name: str,
        room_sid: str,
        recovery: int,
        action: str,
        detail: Mapping[str, Any],
    ) -> bool:
        """Claim recovery number ``recovery`` of a room session, with a ``caller_stranded``
        room fact; False when it was claimed already (by this or another replica)."""
        async with self._transaction() as connection:
            return await _recoveries.claim(
                connection,
                room_name=room_name,
                room_sid=room_sid,
                recovery=recovery,
                action=action,
                detail=detail,
                at=self._clock(),
            )

    async def recoveries(self, room_name: str, room_sid: str) -> int:
        """How many recoveries of this room session were claimed (the highest number)."""
        async with self._transaction() as connection:
            return await _recoveries.count(connection, room_name, room_sid)

    # Audit

    async def record_room_fact(
        self,
        room_name: str,
        kind: str,
        detail: Mapping[str, Any],
        at: datetime | None = None,
        *,
        room_sid: str = "",
    ) -> RoomFact:
        """Append an observation about a room: ``participant_joined``, ``participant_left``,
        ``room_closed`` (with why), ``reconciliation_repair``..."""
        when = self._now(at)
        async with self._transaction() as connection:
            return await _facts.record_fact(
                connection,
                room_name=room_name,
                room_sid=room_sid,
                kind=kind,
                detail=detail,
                at=when,
            )

    async def timeline(self, room_name: str, *, room_sid: str | None = None) -> list[TimelineEntry]:
        """What happened in a room, in time order: events, decisions, dispatches, facts."""
        async with self._transaction() as connection:
            jobs = await _jobs.jobs_of_room(connection, room_name, room_sid)
            return build_timeline(
                await _events.events_for_room(connection, room_name, room_sid),
                await _events.decisions_for_room(connection, room_name, room_sid),
                jobs,
                await _jobs.attempts_of_room(connection, room_name, [job.job_id for job in jobs]),
                await _facts.facts_of_room(connection, room_name, room_sid),
            )
