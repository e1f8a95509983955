"""The dispatcher: claims due jobs from the store and makes the LiveKit dispatch, exactly once.

Per job: the room must exist (``CreateDispatch`` into a missing room would create it with no
agent list and bring in the unnamed worker), the agent must not be dispatched there already
(``ListDispatch``, so a retry never doubles an agent), and only then ``CreateDispatch``.

Existence is checked with ``ListRooms``, except on a job's first attempt when its own webhook
(``room_started``, ``participant_joined``) showed the room session open less than
``ROOM_PROOF_SECONDS`` ago and the store knows of no end to that session (no ``room_finished``,
no later session of the name; read in the claim's transaction). That keeps the guarantee:
``ListRooms`` then ``CreateDispatch`` always left a window in which the room could close; here
the window starts at the webhook, bounded, and a close within it is what the store's
``room_finished`` (sent by livekit-server as the room closes) reveals. Were that webhook still
in flight, ``ListDispatch`` is answered only by the node hosting the room: for a room that is
gone it fails (a 503 after ~3 s; the dispatcher waits 1 s) and never creates it; the job is
retried, and every retry, stale or unproven job asks ``ListRooms`` first. What only
``ListRooms`` would have seen is a new session under the same name within the bound, its first
webhook not yet in the store: then the agent goes to that session, still once (its
``ListDispatch``).

Completions are group-committed: jobs that finish while one completion is being written are
written together in the next transaction, and each job's completion is durable before
``process`` returns; a failed write leaves the job claimed, for its lease to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from switchboard import defaults
from switchboard.livekit import LiveKitClient, LiveKitError, ServerDispatch
from switchboard.service.group_commit import CompletionCommit
from switchboard.service.metrics import ServiceMetrics
from switchboard.settings import Settings
from switchboard.store import Job, JobStatus, Store, StoreError
from switchboard.telemetry import call_context, record_step, step_span
from switchboard.tracing.steps import Step

logger = logging.getLogger("switchboard.dispatcher")

ROOM_MISSING = "room does not exist"
ROOM_PROOF: Final = timedelta(seconds=defaults.ROOM_PROOF_SECONDS)
PROVEN_LIST_DISPATCH_SECONDS: Final = 1.0
"""How long a proven job's ``ListDispatch`` may take before it is retried with ``ListRooms``."""


def room_is_proven(job: Job, now: datetime, max_attempts: int) -> bool:
    """True when ``job`` may skip ``ListRooms``: its first attempt, of a room session its own
    webhook showed open less than ``ROOM_PROOF_SECONDS`` before ``now``, with the store knowing
    no end to it (``job.room_seen_at`` set), and a retry left for a ``ListDispatch`` failure."""
    return (
        job.attempts == 1
        and max_attempts > 1
        and bool(job.room_sid)
        and job.room_seen_at is not None
        and now - job.room_seen_at < ROOM_PROOF
    )


@dataclass
class DrainReport:
    """What one drain did, by outcome (``dispatched``, ``already_dispatched``, ``retry``...)."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def jobs(self) -> int:
        """Jobs handled."""
        return sum(self.outcomes.values())


class Dispatcher:
    """Turns queued dispatch jobs into LiveKit agent dispatches."""

    def __init__(
        self,
        store: Store,
        client: LiveKitClient,
        settings: Settings,
        metrics: ServiceMetrics,
        worker_id: str,
    ) -> None:
        self._store = store
        self._client = client
        self._settings = settings
        self._metrics = metrics
        self.worker_id = worker_id
        self._wake = asyncio.Event()
        self._completions = CompletionCommit(store)

    def wake(self) -> None:
        """Ask the running loop to look for due jobs now (a webhook just enqueued some)."""
        self._wake.set()

    async def run(self) -> None:
        """Drain due jobs forever: on ``wake()`` or every ``poll_interval`` seconds."""
        while True:
            try:
                await self.drain()
            except StoreError as exc:
                logger.warning(
                    "dispatcher: store unavailable, will retry", extra={"error": str(exc)}
                )
            except Exception:
                logger.exception("dispatcher: unexpected error; the loop keeps running")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)
            self._wake.clear()

    async def drain(self, budget_seconds: float | None = None) -> DrainReport:
        """Handle due jobs until none is left (or ``budget_seconds`` have passed)."""
        report = DrainReport()
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        while deadline is None or time.monotonic() < deadline:
            jobs = await self._store.claim_due_jobs(
                self.worker_id,
                limit=self._settings.dispatch_concurrency,
                lease_seconds=self._settings.lease_seconds,
                max_attempts=self._settings.max_attempts,
            )
            if not jobs:
                break
            for outcome in await asyncio.gather(*(self.process(job) for job in jobs)):
                report.add(outcome)
        return report

    async def process(self, job: Job) -> str:
        """Dispatch one claimed job; returns its outcome. Never raises for LiveKit failures."""
        call = call_context(job.room_sid or f"name:{job.room_name}")
        observe = self._metrics.observe_step
        attributes: dict[str, str | int] = {
            "switchboard.job": job.job_id,
            "switchboard.agent": job.agent_name,
            "switchboard.attempt": job.attempts,
            "room": job.room_name,
        }
        if job.attempts == 1:  # the wait in the queue before the first claim
            queued = int(job.created_at.timestamp() * 1e9)
            record_step(Step.JOB_QUEUED, queued, time.time_ns(), call, attributes, observe)
        with step_span(Step.JOB_CLAIMED, call, attributes, observe) as span:
            try:
                outcome = await self._dispatch(job)
            except LiveKitError as exc:
                outcome = await self._fail(
                    job, str(exc), exc.retryable, self._settings.max_attempts
                )
            except StoreError as exc:
                # The lease expires and another attempt (here or in a replica) picks it up.
                logger.warning(
                    "dispatch: store failed, lease will expire",
                    extra={"job": job.job_id, "error": str(exc)},
                )
                outcome = "store_error"
            span.set_attribute("switchboard.outcome", outcome)
        self._metrics.dispatches.labels(outcome=outcome).inc()
        return outcome

    async def _dispatch(self, job: Job) -> str:
        if room_is_proven(job, datetime.now(UTC), self._settings.max_attempts):
            room_check = "webhook"
            try:
                # Bounded: for a missing room the server takes ~3 s to say 503, and the whole
                # claim waits for its slowest job.
                async with asyncio.timeout(PROVEN_LIST_DISPATCH_SECONDS):
                    existing = await self._client.list_dispatches(job.room_name)
            except (LiveKitError, TimeoutError) as exc:
                # The room may have closed since its webhook: retry, and the next attempt asks
                # ListRooms first.
                error = str(exc) or (
                    f"ListDispatch {job.room_name!r} did not answer in "
                    f"{PROVEN_LIST_DISPATCH_SECONDS:g} s (the room may have closed)"
                )
                return await self._fail(job, error, True, self._settings.max_attempts)
        else:
            room_check = "ListRooms"
            room = await self._client.get_room(job.room_name)
            if room is None:
                attempts = min(self._settings.missing_room_attempts, self._settings.max_attempts)
                return await self._fail(job, ROOM_MISSING, True, attempts)
            if job.room_sid and room.sid and room.sid != job.room_sid:
                reason = (
                    f"room session {job.room_sid} ended; the room is now {room.sid} "
                    "(reconciliation decides for the new session)"
                )
                return await self._fail(job, reason, False, 1)
            existing = await self._client.list_dispatches(job.room_name)
        return await self._create_once(job, existing, room_check)

    async def _create_once(self, job: Job, existing: list[ServerDispatch], room_check: str) -> str:
        for dispatch in existing:
            if dispatch.agent_name == job.agent_name:
                await self._completions.complete(job, "already_dispatched", dispatch.to_json())
                self._log(
                    job, "already_dispatched", dispatch=dispatch.dispatch_id, room_check=room_check
                )
                return "already_dispatched"
        with step_span(Step.CREATE_DISPATCH, on_end=self._metrics.observe_step):
            created = await self._client.create_dispatch(
                job.room_name, job.agent_name, job.metadata
            )
        await self._completions.complete(job, "dispatched", created.to_json())
        self._log(job, "dispatched", dispatch=created.dispatch_id, room_check=room_check)
        return "dispatched"

    async def _fail(self, job: Job, error: str, retryable: bool, max_attempts: int) -> str:
        updated = await self._store.fail_job(
            job, error, retryable, max_attempts=max_attempts, backoff=self._settings.backoff
        )
        if updated is None:
            return "stale"
        outcome = "dead" if updated.status is JobStatus.DEAD else "retry"
        self._log(job, outcome, error=error)
        return outcome

    @staticmethod
    def _log(job: Job, outcome: str, **facts: str) -> None:
        """One line per attempt's end: the job, its outcome, then the dispatch id or error."""
        job_facts = {"job": job.job_id, "room": job.room_name, "agent": job.agent_name}
        logger.info(
            "dispatch", extra=job_facts | {"attempt": job.attempts, "outcome": outcome} | facts
        )
