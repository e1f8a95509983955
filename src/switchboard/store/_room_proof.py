"""When a claimed job's own webhook showed its room session open, unless the store knows better.

The dispatcher may skip ``ListRooms`` for a first attempt whose webhook is recent; this is the
store's half: one statement per claim, inside the claim's transaction. A session counts as
possibly over when the store holds its ``room_finished``, a ``room_finished`` of the room name
received since, or any event of another session of the name received since (names are unique
among open rooms, so a new session means the old one closed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._schema import events
from switchboard.store.models import Job

ROOM_OPEN_EVENTS: Final = ("room_started", "participant_joined")
"""Webhooks that say their room session was open when the server sent them."""
ROOM_FINISHED: Final = "room_finished"


async def room_seen_open(connection: AsyncConnection, jobs: Sequence[Job]) -> dict[int, datetime]:
    """For each first-attempt job whose webhook shows its room session open and whose session
    the store does not know to be over: when the webhook showed it (job id → instant)."""
    candidates = [job for job in jobs if job.attempts == 1 and job.room_sid]
    if not candidates:
        return {}
    proof, later = events.alias("proof"), events.alias("later")
    since = later.c.received_at >= proof.c.received_at
    over = exists().where(
        later.c.room_name == proof.c.room_name,
        or_(
            and_(
                later.c.event_type == ROOM_FINISHED,
                or_(later.c.room_sid == proof.c.room_sid, since),
            ),
            and_(later.c.room_sid != proof.c.room_sid, since),
        ),
    )
    rows = await connection.execute(
        select(
            proof.c.event_id,
            proof.c.room_name,
            proof.c.room_sid,
            proof.c.received_at,
            proof.c.body_json,
        ).where(
            proof.c.event_id.in_({job.event_id for job in candidates}),
            proof.c.event_type.in_(ROOM_OPEN_EVENTS),
            ~over,
        )
    )
    shown = {}
    for row in rows.mappings():
        created = _created_at(row["body_json"])
        if created is not None:
            shown[(row["event_id"], row["room_name"], row["room_sid"])] = min(
                created, row["received_at"]
            )
    seen = {}
    for job in candidates:
        at = shown.get((job.event_id, job.room_name, job.room_sid))
        if at is not None:
            seen[job.job_id] = at
    return seen


def _created_at(body_json: str) -> datetime | None:
    """The webhook's ``createdAt`` (whole seconds, so never later than the truth), if any."""
    try:
        payload = json.loads(body_json)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    value = payload.get("createdAt", payload.get("created_at"))
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except ValueError:
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
