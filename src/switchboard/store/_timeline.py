"""Merge a room's events, decisions, dispatches and facts into one story, in time order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from switchboard.store.models import (
    Attempt,
    AttemptResult,
    DecisionRecord,
    Job,
    RoomFact,
    StoredEvent,
    TimelineEntry,
    TimelineKind,
)

_RANK: Final = {kind: rank for rank, kind in enumerate(TimelineKind)}
"""Tie-break for equal timestamps: cause before effect (event, decision, enqueue, attempt...)."""


def build_timeline(
    events: Sequence[StoredEvent],
    decisions: Sequence[DecisionRecord],
    jobs: Sequence[Job],
    attempts: Sequence[Attempt],
    facts: Sequence[RoomFact],
) -> list[TimelineEntry]:
    """Every record as a timeline entry, ordered by time, then cause before effect."""
    agents = {job.job_id: job.agent_name for job in jobs}
    entries = [
        *(_event_entry(event) for event in events),
        *(_decision_entry(decision) for decision in decisions),
        *(_enqueued_entry(job) for job in jobs),
        *(_attempt_entry(attempt, agents.get(attempt.job_id, "?")) for attempt in attempts),
        *(
            _result_entry(attempt, agents.get(attempt.job_id, "?"))
            for attempt in attempts
            if attempt.finished_at is not None
        ),
        *(_fact_entry(fact) for fact in facts),
    ]
    order = sorted(range(len(entries)), key=lambda i: (entries[i].at, _RANK[entries[i].kind], i))
    return [entries[i] for i in order]


def _event_entry(event: StoredEvent) -> TimelineEntry:
    body = _parse(event.body_json)
    participant = body.get("participant")
    identity = participant.get("identity") if isinstance(participant, dict) else None
    who = f" {identity}" if identity else ""
    return TimelineEntry(
        at=event.received_at,
        kind=TimelineKind.EVENT,
        summary=f"received {event.event_type}{who} ({event.event_id})",
        detail={
            "event_id": event.event_id,
            "event_type": event.event_type,
            "room_sid": event.room_sid,
            "body": body,
        },
    )


def _decision_entry(decision: DecisionRecord) -> TimelineEntry:
    agents = ", ".join(dispatch.agent_name for dispatch in decision.dispatches) or "no agent"
    if decision.rule_id is None:
        summary = f"no rule matched {decision.event_id}"
    else:
        summary = f"rule '{decision.rule_id}' matched {decision.event_id}: dispatch {agents}"
    return TimelineEntry(
        at=decision.decided_at,
        kind=TimelineKind.DECISION,
        summary=summary,
        detail={
            "event_id": decision.event_id,
            "rule_id": decision.rule_id,
            "dispatches": [dispatch._asdict() for dispatch in decision.dispatches],
            "explanation": decision.explanation,
        },
    )


def _enqueued_entry(job: Job) -> TimelineEntry:
    return TimelineEntry(
        at=job.created_at,
        kind=TimelineKind.DISPATCH_ENQUEUED,
        summary=f"queued dispatch of {job.agent_name} (job {job.job_id})",
        detail={
            "job_id": job.job_id,
            "agent_name": job.agent_name,
            "metadata": job.metadata,
            "event_id": job.event_id,
            "status": job.status.value,
        },
    )


def _attempt_entry(attempt: Attempt, agent: str) -> TimelineEntry:
    return TimelineEntry(
        at=attempt.started_at,
        kind=TimelineKind.DISPATCH_ATTEMPT,
        summary=f"attempt {attempt.attempt} to dispatch {agent} by {attempt.worker_id}",
        detail={"job_id": attempt.job_id, "attempt": attempt.attempt, "worker": attempt.worker_id},
    )


def _result_entry(attempt: Attempt, agent: str) -> TimelineEntry:
    assert attempt.finished_at is not None
    match attempt.result:
        case AttemptResult.SUCCEEDED:
            summary = f"dispatched {agent} (attempt {attempt.attempt})"
        case AttemptResult.RETRY:
            retry_at = attempt.retry_at.isoformat() if attempt.retry_at else "later"
            summary = f"dispatch of {agent} failed: {attempt.error}; retry at {retry_at}"
        case AttemptResult.DEAD:
            summary = f"dispatch of {agent} dead-lettered: {attempt.error}"
        case _:
            summary = f"attempt {attempt.attempt} to dispatch {agent} lost its lease"
    return TimelineEntry(
        at=attempt.finished_at,
        kind=TimelineKind.DISPATCH_RESULT,
        summary=summary,
        detail={
            "job_id": attempt.job_id,
            "attempt": attempt.attempt,
            "result": None if attempt.result is None else attempt.result.value,
            "error": attempt.error,
            "server_answer": attempt.server_answer,
        },
    )


def _fact_entry(fact: RoomFact) -> TimelineEntry:
    described = ", ".join(f"{key}={value}" for key, value in sorted(fact.detail.items()))
    return TimelineEntry(
        at=fact.at,
        kind=TimelineKind.FACT,
        summary=f"{fact.kind}: {described}" if described else fact.kind,
        detail={"kind": fact.kind, "room_sid": fact.room_sid, "detail": fact.detail},
    )


def _parse(body_json: str) -> dict[str, Any]:
    try:
        body = json.loads(body_json)
    except ValueError:
        return {"raw": body_json}
    return body if isinstance(body, dict) else {"raw": body}
