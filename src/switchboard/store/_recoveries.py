"""Recoveries of stranded callers: the watchdog claims recovery N of a room session, once.

A claim is the unique row (room, sid, N): of several replicas judging the same caller alone,
exactly one gets N and acts; the others see it taken and wait for the outcome. The claim and
the room fact that explains it are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._facts import record_fact
from switchboard.store._schema import recoveries
from switchboard.store._sql import insert_unless_exists

_recoveries = recoveries.c
RECOVERY_KEY: Final = ("room_name", "room_sid", "recovery")
RECOVERY_FACT: Final = "caller_stranded"
"""The room fact each claimed recovery records (``action``, ``recovery``, ``reason``...)."""


async def claim(
    connection: AsyncConnection,
    *,
    room_name: str,
    room_sid: str,
    recovery: int,
    action: str,
    detail: Mapping[str, Any],
    at: datetime,
) -> bool:
    """Claim recovery ``recovery`` of a room session and record its fact; False if taken."""
    values = {
        "room_name": room_name,
        "room_sid": room_sid,
        "recovery": recovery,
        "action": action,
        "detail": dict(detail),
        "at": at,
    }
    if await insert_unless_exists(connection, recoveries, values, RECOVERY_KEY) is None:
        return False
    await record_fact(
        connection,
        room_name=room_name,
        room_sid=room_sid,
        kind=RECOVERY_FACT,
        detail={"action": action, "recovery": recovery, **detail},
        at=at,
    )
    return True


async def count(connection: AsyncConnection, room_name: str, room_sid: str) -> int:
    """The highest recovery number claimed for a room session (0: none)."""
    query = select(func.max(_recoveries.recovery)).where(
        _recoveries.room_name == room_name, _recoveries.room_sid == room_sid
    )
    return int((await connection.execute(query)).scalar_one_or_none() or 0)
