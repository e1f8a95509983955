"""Room facts: what was observed about a room besides webhook events and dispatches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._rows import fact_from_row
from switchboard.store._schema import room_facts
from switchboard.store.models import RoomFact

_facts = room_facts.c


def fact_row(
    room_name: str, room_sid: str, kind: str, detail: Mapping[str, Any], at: datetime
) -> dict[str, Any]:
    """The row of a new room fact."""
    return {
        "room_name": room_name,
        "room_sid": room_sid,
        "kind": kind,
        "detail": dict(detail),
        "at": at,
    }


async def record_fact(
    connection: AsyncConnection,
    *,
    room_name: str,
    room_sid: str,
    kind: str,
    detail: Mapping[str, Any],
    at: datetime,
) -> RoomFact:
    """Append a fact and return it with its id."""
    values = fact_row(room_name, room_sid, kind, detail, at)
    result = await connection.execute(insert(room_facts).values(values).returning(*room_facts.c))
    return fact_from_row(result.mappings().one())


async def facts_of_room(
    connection: AsyncConnection, room_name: str, room_sid: str | None
) -> list[RoomFact]:
    """The facts of a room, oldest first."""
    query = select(room_facts).where(_facts.room_name == room_name)
    if room_sid is not None:
        query = query.where(_facts.room_sid == room_sid)
    rows = (await connection.execute(query.order_by(_facts.at, _facts.fact_id))).mappings()
    return [fact_from_row(row) for row in rows]
