"""When a room's agents are all gone while people stay, read from its timeline alone.

The waterfall draws it as a bar; the intake emits the ``agents.gone`` span when the leave that
ended it is recorded. Both read the store, never memory, so any replica decides the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from switchboard.rules import RoomEvent
from switchboard.store import TimelineEntry, TimelineKind
from switchboard.tracing._read import AGENT_KIND, Person, Room, read_room

LEAVE_EVENTS: Final = frozenset({"participant_left", "participant_connection_aborted"})
"""The webhooks that say a participant is no longer in the room."""


@dataclass(frozen=True, slots=True)
class AgentsGone:
    """Every agent of a room left while ``stayed`` were still there."""

    first_left: datetime
    """The first leave among the agents present when the last of them joined."""
    last_left: datetime
    """The last agent's leave: from here on no agent is in the room."""
    agents: tuple[Person, ...]
    stayed: tuple[Person, ...]


def agents_gone(room: Room) -> AgentsGone | None:
    """The room's agents all left and someone stayed after them; None otherwise."""
    agents = [p for p in room.people.values() if p.kind == AGENT_KIND]
    left = [p.left_at for p in agents if p.left_at is not None]
    if not agents or len(left) < len(agents):
        return None
    last_left = max(left)
    stayed = tuple(
        p
        for p in room.people.values()
        if p.kind != AGENT_KIND and (p.left_at is None or p.left_at > last_left)
    )
    if not stayed:
        return None
    last_joined = max(p.joined_at for p in agents)
    first_left = min((t for t in left if t >= last_joined), default=last_left)
    return AgentsGone(first_left, last_left, tuple(agents), stayed)


def gone_by_event(
    room_name: str, entries: Sequence[TimelineEntry], event_id: str
) -> AgentsGone | None:
    """What the recorded event ``event_id`` ended: the room's last agent leaving while people
    stay. None for any other event, and for a leave that changed nothing (a second leave of the
    same agent, one more agent leaving a room its agents had already left)."""
    position = next(
        (
            i
            for i, entry in enumerate(entries)
            if entry.kind is TimelineKind.EVENT and entry.detail.get("event_id") == event_id
        ),
        None,
    )
    if position is None or not _is_agent_leave(entries[position]):
        return None
    before = read_room(room_name, entries[:position])
    after = read_room(room_name, entries[: position + 1])
    if agents_gone(before) is not None:
        return None
    return agents_gone(after)


def _is_agent_leave(entry: TimelineEntry) -> bool:
    body = entry.detail.get("body")
    event = RoomEvent.from_webhook_dict(body if isinstance(body, dict) else {})
    who = event.participant
    return event.event in LEAVE_EVENTS and who is not None and who.kind == AGENT_KIND
