"""A call's waterfall rebuilt from the store: ``load_trace`` reads the room asked for and every
room it led to; ``build_trace`` is the pure part. Needs the ``service`` extra (the store)."""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.store import Store, TimelineEntry
from switchboard.tracing._build import build_trace, linked_rooms
from switchboard.tracing.trace import CallTrace

__all__ = ["build_trace", "linked_rooms", "load_trace"]

MAX_ROOMS = 8
"""A call that leads to more rooms than this is cut there (a loop of links, or a bug)."""


async def load_trace(
    store: Store, room: str, live: Mapping[str, Mapping[str, str]] | None = None
) -> CallTrace:
    """The call that starts in ``room``, rebuilt from the store (``live``: see build_trace)."""
    timelines: dict[str, list[TimelineEntry]] = {}
    pending = [room]
    while pending and len(timelines) < MAX_ROOMS:
        name = pending.pop(0)
        if name in timelines:
            continue
        timelines[name] = await store.timeline(name)
        pending.extend(linked_rooms(timelines[name]))
    return build_trace(timelines, live)
