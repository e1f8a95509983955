"""The dispatcher: claims due jobs from the store and makes the LiveKit dispatch, exactly once.

Per job: the room must exist (``CreateDispatch`` into a missing room would create it with no
agent list and bring in the unnamed worker), the agent must not be dispatched there already
(so a retry never doubles an agent), and only then ``CreateDispatch``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from switchboard.livekit import LiveKitClient, LiveKitError
from switchboard.service.metrics import ServiceMetrics
from switchboard.settings import Settings
from switchboard.store import Job, JobStatus, Store, StoreError
from switchboard.telemetry import call_context, record_step, step_span
from switchboard.tracing.steps import Step

logger = logging.getLogger("switchboard.dispatcher")

ROOM_MISSING = "room does not exist"


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
        for existing in await self._client.list_dispatches(job.room_name):
            if existing.agent_name == job.agent_name:
                await self._store.complete_job(job, "already_dispatched", existing.to_json())
                self._log(job, "already_dispatched", dispatch=existing.dispatch_id)
                return "already_dispatched"
        with step_span(Step.CREATE_DISPATCH, on_end=self._metrics.observe_step):
            created = await self._client.create_dispatch(
                job.room_name, job.agent_name, job.metadata
            )
        await self._store.complete_job(job, "dispatched", created.to_json())
        self._log(job, "dispatched", dispatch=created.dispatch_id)
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
