"""Received events (deduplicated by id) and the decisions taken on them."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._queue import enqueue
from switchboard.store._rows import decision_from_row, event_from_row
from switchboard.store._schema import decisions, events
from switchboard.store._sql import insert_unless_exists
from switchboard.store.errors import StoreError, UnknownEventError
from switchboard.store.models import DecisionRecord, Dispatch, StoredEvent


def event_row(event: StoredEvent) -> dict[str, Any]:
    """The events-table row of ``event``."""
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "room_name": event.room_name,
        "room_sid": event.room_sid,
        "body_json": event.body_json,
        "received_at": event.received_at,
    }


def decision_row(
    event: StoredEvent,
    rule_id: str | None,
    dispatches: Sequence[tuple[str, str]],
    explanation: Mapping[str, Any],
    decided_at: datetime,
) -> dict[str, Any]:
    """The decisions-table row of a decision on ``event``."""
    return {
        "event_id": event.event_id,
        "room_name": event.room_name,
        "room_sid": event.room_sid,
        "rule_id": rule_id,
        "dispatches": [Dispatch(*dispatch)._asdict() for dispatch in dispatches],
        "explanation": dict(explanation),
        "decided_at": decided_at,
    }


async def record_event(connection: AsyncConnection, event: StoredEvent) -> bool:
    """Insert the event; False when its id is already recorded (a redelivery)."""
    values = event_row(event)
    return await insert_unless_exists(connection, events, values, ["event_id"]) is not None


async def get_event(connection: AsyncConnection, event_id: str) -> StoredEvent | None:
    """The event with this id, if recorded."""
    row = (
        (await connection.execute(select(events).where(events.c.event_id == event_id)))
        .mappings()
        .first()
    )
    return None if row is None else event_from_row(row)


async def record_decision(
    connection: AsyncConnection,
    *,
    event_id: str,
    room_name: str,
    rule_id: str | None,
    dispatches: Sequence[tuple[str, str]],
    explanation: Mapping[str, Any],
    decided_at: datetime,
) -> bool:
    """Record the decision on an event and enqueue its dispatches; False if already decided.

    Both happen in the caller's transaction, so a decision never exists without its intents.
    """
    event = await get_event(connection, event_id)
    if event is None:
        raise UnknownEventError(
            f"no event {event_id!r} is recorded, so no decision can refer to it; "
            "call record_event first (a reconciliation pass records a synthetic event)"
        )
    if event.room_name != room_name:
        raise StoreError(
            f"event {event_id!r} belongs to room {event.room_name!r}, not {room_name!r}; "
            "pass the room of the event the decision is about"
        )
    wanted = [Dispatch(*dispatch) for dispatch in dispatches]
    values = decision_row(event, rule_id, wanted, explanation, decided_at)
    if await insert_unless_exists(connection, decisions, values, ["event_id"]) is None:
        return False
    for dispatch in wanted:
        await enqueue(
            connection,
            room_name=event.room_name,
            room_sid=event.room_sid,
            agent_name=dispatch.agent_name,
            metadata=dispatch.metadata,
            event_id=event_id,
            at=decided_at,
        )
    return True


async def decisions_for_room(
    connection: AsyncConnection, room_name: str, room_sid: str | None = None
) -> list[DecisionRecord]:
    """The decisions on a room's events, oldest first."""
    query = select(decisions).where(decisions.c.room_name == room_name)
    if room_sid is not None:
        query = query.where(decisions.c.room_sid == room_sid)
    query = query.order_by(decisions.c.decided_at, decisions.c.decision_id)
    rows = (await connection.execute(query)).mappings()
    return [decision_from_row(row) for row in rows]


async def undecided_events(
    connection: AsyncConnection,
    *,
    event_types: Collection[str],
    received_before: datetime,
    limit: int,
) -> list[StoredEvent]:
    """Events of these types without a decision: the service stopped between ack and decide."""
    query = (
        select(events)
        .outerjoin(decisions, decisions.c.event_id == events.c.event_id)
        .where(
            decisions.c.decision_id.is_(None),
            events.c.event_type.in_(list(event_types)),
            events.c.received_at < received_before,
        )
        .order_by(events.c.received_at, events.c.event_id)
        .limit(limit)
    )
    rows = (await connection.execute(query)).mappings()
    return [event_from_row(row) for row in rows]


async def events_for_room(
    connection: AsyncConnection, room_name: str, room_sid: str | None = None
) -> list[StoredEvent]:
    """The events of a room, oldest first."""
    query = select(events).where(events.c.room_name == room_name)
    if room_sid is not None:
        query = query.where(events.c.room_sid == room_sid)
    rows = (await connection.execute(query.order_by(events.c.received_at))).mappings()
    return [event_from_row(row) for row in rows]
