"""Database rows to the dataclasses of ``models``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from switchboard.store.models import (
    Attempt,
    AttemptResult,
    DecisionRecord,
    Dispatch,
    Job,
    JobStatus,
    RoomFact,
    StoredEvent,
)


def event_from_row(row: RowMapping) -> StoredEvent:
    """An ``events`` row."""
    return StoredEvent(
        event_id=row["event_id"],
        event_type=row["event_type"],
        room_name=row["room_name"],
        room_sid=row["room_sid"],
        body_json=row["body_json"],
        received_at=row["received_at"],
    )


def decision_from_row(row: RowMapping) -> DecisionRecord:
    """A ``decisions`` row; dispatches are stored as ``[{"agent_name", "metadata"}]``."""
    return DecisionRecord(
        decision_id=row["decision_id"],
        event_id=row["event_id"],
        room_name=row["room_name"],
        room_sid=row["room_sid"],
        rule_id=row["rule_id"],
        dispatches=tuple(Dispatch(d["agent_name"], d["metadata"]) for d in row["dispatches"]),
        explanation=_object(row["explanation"]),
        decided_at=row["decided_at"],
    )


def job_from_row(row: RowMapping) -> Job:
    """A ``dispatch_jobs`` row."""
    return Job(
        job_id=row["job_id"],
        room_name=row["room_name"],
        room_sid=row["room_sid"],
        agent_name=row["agent_name"],
        metadata=row["agent_metadata"],
        event_id=row["event_id"],
        status=JobStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_error=row["last_error"],
        dead_reason=row["dead_reason"],
        outcome=row["outcome"],
        server_answer=_object_or_none(row["server_answer"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def attempt_from_row(row: RowMapping) -> Attempt:
    """A ``dispatch_attempts`` row."""
    result = row["result"]
    return Attempt(
        job_id=row["job_id"],
        attempt=row["attempt"],
        room_name=row["room_name"],
        worker_id=row["worker_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=None if result is None else AttemptResult(result),
        error=row["error"],
        retry_at=row["retry_at"],
        server_answer=_object_or_none(row["server_answer"]),
    )


def fact_from_row(row: RowMapping) -> RoomFact:
    """A ``room_facts`` row."""
    return RoomFact(
        fact_id=row["fact_id"],
        room_name=row["room_name"],
        room_sid=row["room_sid"],
        kind=row["kind"],
        detail=_object(row["detail"]),
        at=row["at"],
    )


def _object(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {"value": value}


def _object_or_none(value: Any) -> dict[str, Any] | None:
    return None if value is None else _object(value)
