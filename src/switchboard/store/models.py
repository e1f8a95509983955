"""The rows the store returns (plain frozen dataclasses, detached from the database) and the
new rows it takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple


class Dispatch(NamedTuple):
    """One agent a decision wants in a room; a plain ``(agent_name, metadata)`` tuple works too."""

    agent_name: str
    metadata: str = ""


class JobStatus(StrEnum):
    """Where a dispatch job is in its life."""

    PENDING = "pending"
    """Waiting for ``next_attempt_at`` (a first try or a scheduled retry)."""
    CLAIMED = "claimed"
    """A worker holds its lease and is dispatching; reclaimable once the lease expires."""
    SUCCEEDED = "succeeded"
    """The server accepted the dispatch (or it was already there); final."""
    DEAD = "dead"
    """Dead-lettered: not retryable, or out of attempts; ``dead_reason`` says why."""


class AttemptResult(StrEnum):
    """How one attempt at a dispatch ended."""

    SUCCEEDED = "succeeded"
    RETRY = "retry"
    DEAD = "dead"
    LEASE_EXPIRED = "lease_expired"
    """The worker never reported back (it crashed or stalled); another one took over."""


class TimelineKind(StrEnum):
    """What a timeline entry records."""

    EVENT = "event"
    DECISION = "decision"
    DISPATCH_ENQUEUED = "dispatch_enqueued"
    DISPATCH_ATTEMPT = "dispatch_attempt"
    DISPATCH_RESULT = "dispatch_result"
    FACT = "fact"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A webhook event as received; ``body_json`` is the exact request body."""

    event_id: str
    event_type: str
    room_name: str
    room_sid: str
    body_json: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class NewDecision:
    """A decision to record with its event: ``rule_id`` None when no rule matched;
    ``dispatches`` are ``(agent_name, metadata)`` pairs."""

    rule_id: str | None
    dispatches: Sequence[tuple[str, str]]
    explanation: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewFact:
    """A room fact to record with its event (``participant_joined``...)."""

    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook event to record, with the decision on it and the room fact it makes, if any."""

    event_id: str
    event_type: str
    room_name: str
    room_sid: str
    body_json: str
    decision: NewDecision | None = None
    fact: NewFact | None = None


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """The rules engine's verdict on one event; ``rule_id`` is None when no rule matched."""

    decision_id: int
    event_id: str
    room_name: str
    room_sid: str
    rule_id: str | None
    dispatches: tuple[Dispatch, ...]
    explanation: dict[str, Any]
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Job:
    """The dispatch of one agent to one room: the intent, its queue state and its outcome.

    ``attempts`` counts claims so far; a claimed job's ``attempts`` and ``lease_owner``
    identify the claim, so pass the Job itself back to ``complete_job`` or ``fail_job``.
    """

    job_id: int
    room_name: str
    room_sid: str
    agent_name: str
    metadata: str
    event_id: str
    status: JobStatus
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    dead_reason: str | None
    outcome: str | None
    server_answer: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None
    room_seen_at: datetime | None = None
    """Set by ``claim_due_jobs`` on a first attempt: when the webhook the job came from showed
    its room session open, unless the store knows that session may be over; None otherwise."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A claimed job the server accepted: ``outcome`` (``"dispatched"``...) and its answer."""

    job: Job
    outcome: str
    server_answer: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claim of a job by a worker, and how it ended (``result`` None while in flight)."""

    job_id: int
    attempt: int
    room_name: str
    worker_id: str
    started_at: datetime
    finished_at: datetime | None
    result: AttemptResult | None
    error: str | None
    retry_at: datetime | None
    server_answer: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RoomFact:
    """Something observed about a room: a join, a leave, a closure, a reconciliation repair."""

    fact_id: int
    room_name: str
    room_sid: str
    kind: str
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of ``switchboard explain ROOM``: when, what kind, a sentence, and the data."""

    at: datetime
    kind: TimelineKind
    summary: str
    detail: dict[str, Any]


class CallerStatus(StrEnum):
    """Where a caller under a limit is (``caller_queue``)."""

    SERVING = "serving"
    """Holds one of the limit's slots: its agents are dispatched."""
    WAITING = "waiting"
    """In the queue, with the hold agent; promoted to serving in arrival order."""
    DONE = "done"
    """Was served; the slot is free again (the agent left or the room closed)."""
    OVERFLOWED = "overflowed"
    """The queue was full or the wait too long: the overflow action ran."""
    ABANDONED = "abandoned"
    """Hung up (or the room closed) while waiting."""


@dataclass(frozen=True, slots=True)
class QueuedCaller:
    """One caller under a limit: its room, key, status and (while waiting) its place in line."""

    caller_id: int
    limit_key: str
    room_name: str
    room_sid: str
    status: CallerStatus
    dispatches: tuple[Dispatch, ...]
    policy: Mapping[str, Any]
    calls: int
    """The limit of the key when the caller arrived."""
    enqueued_at: datetime
    served_at: datetime | None
    finished_at: datetime | None
    position: int = 0
    """1-based place in line while waiting, else 0."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the console and the API."""
        return {
            "caller_id": self.caller_id,
            "key": self.limit_key,
            "room": self.room_name,
            "status": str(self.status),
            "position": self.position,
            "agents": [dispatch.agent_name for dispatch in self.dispatches],
            "enqueued_at": self.enqueued_at.isoformat(),
            "served_at": self.served_at.isoformat() if self.served_at else None,
        }
