"""A room's history from the store as JSON: decisions and the timeline (API and
CLI share it); with the call's waterfall for ``explain``."""

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


async def room_history(store: Store, room: str) -> dict[str, Any]:
    """``{"room", "decisions", "timeline"}`` for every session of ``room``."""
    decisions = await store.decisions_for_room(room)
    timeline = await store.timeline(room)
    return {
        "room": room,
        "decisions": [decision_json(d) for d in decisions],
        "timeline": [timeline_json(t) for t in timeline],
    }


async def call_history(store: Store, room: str) -> tuple[dict[str, Any], CallTrace]:
    """``room_history`` with the call's waterfall under ``"trace"``, and the model itself."""
    trace = await load_trace(store, room)
    return {**await room_history(store, room), "trace": trace.to_json()}, trace
