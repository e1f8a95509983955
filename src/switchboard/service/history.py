"""A room's history from the store as JSON: decisions, the timeline and the call's waterfall
(API and CLI share it)."""

from __future__ import annotations

from typing import Any

from switchboard.store import DecisionRecord, Store, TimelineEntry
from switchboard.tracing import CallTrace
from switchboard.tracing.rebuild import load_trace


def decision_json(record: DecisionRecord) -> dict[str, Any]:
    """One decision as JSON."""
    return {
        "event_id": record.event_id,
        "room": record.room_name,
        "room_sid": record.room_sid,
        "rule": record.rule_id or "default",
        "dispatch": [{"agent": d.agent_name, "metadata": d.metadata} for d in record.dispatches],
        "decided_at": record.decided_at.isoformat(),
        "explanation": record.explanation,
    }


def timeline_json(entry: TimelineEntry) -> dict[str, Any]:
    """One timeline entry as JSON."""
    return {
        "at": entry.at.isoformat(),
        "kind": entry.kind.value,
        "summary": entry.summary,
        "detail": entry.detail,
    }


async def room_history(store: Store, room: str, trace: CallTrace | None = None) -> dict[str, Any]:
    """``{"room", "decisions", "timeline", "trace"}`` for every session of ``room``; ``trace``
    is the call's waterfall (``CallTrace.to_json``), rebuilt unless given."""
    decisions = await store.decisions_for_room(room)
    timeline = await store.timeline(room)
    call = trace if trace is not None else await load_trace(store, room)
    return {
        "room": room,
        "decisions": [decision_json(d) for d in decisions],
        "timeline": [timeline_json(t) for t in timeline],
        "trace": call.to_json(),
    }
