"""The audit trail: room facts and the merged timeline behind ``switchboard explain ROOM``."""

from __future__ import annotations

import json
from datetime import timedelta

from switchboard.store import Backoff, Store, TimelineKind
from tests.integration.store.fixtures import ManualClock

NO_JITTER = Backoff(base_seconds=1.0, factor=2.0, max_seconds=10.0, jitter=0.0)


def _webhook(event_id: str, event: str, identity: str | None = None) -> str:
    body: dict[str, object] = {"id": event_id, "event": event, "room": {"name": "support-1"}}
    if identity:
        body["participant"] = {"identity": identity}
    return json.dumps(body)


async def test_timeline_tells_what_happened_in_order(store: Store, clock: ManualClock) -> None:
    started = clock.now
    await store.record_event(
        "EV_start", "room_started", "support-1", "RM_1", _webhook("EV_start", "room_started")
    )
    clock.advance(0.010)
    explanation = {"rule": "support", "because": ["room.name glob support-*"]}
    await store.record_decision(
        "EV_start", "support-1", "support", [("qualifier", "{}")], explanation
    )
    clock.advance(0.5)
    [job] = await store.claim_due_jobs("w1", 1, 30)
    clock.advance(0.2)
    await store.fail_job(job, "503 Service Unavailable", True, 5, NO_JITTER)
    clock.advance(1)
    [job] = await store.claim_due_jobs("w2", 1, 30)
    clock.advance(0.1)
    await store.complete_job(job, "dispatched", {"dispatch_id": "AD_1"})
    clock.advance(1)
    await store.record_event(
        "EV_join",
        "participant_joined",
        "support-1",
        "RM_1",
        _webhook("EV_join", "participant_joined", "agent-qualifier"),
    )
    await store.record_room_fact("support-1", "participant_joined", {"identity": "agent-qualifier"})
    clock.advance(60)
    await store.record_room_fact("support-1", "room_closed", {"reason": "departure timeout"})
    # A fact observed earlier but written late lands at its own time, not at the end.
    await store.record_room_fact(
        "support-1", "reconciliation_repair", {"agent": "qualifier"}, started + timedelta(seconds=1)
    )
    await store.record_event("EV_other", "room_started", "elsewhere", "RM_9", "{}")

    entries = await store.timeline("support-1")
    assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
    assert [(entry.kind, entry.summary) for entry in entries] == [
        (TimelineKind.EVENT, "received room_started (EV_start)"),
        (TimelineKind.DECISION, "rule 'support' matched EV_start: dispatch qualifier"),
        (TimelineKind.DISPATCH_ENQUEUED, "queued dispatch of qualifier (job 1)"),
        (TimelineKind.DISPATCH_ATTEMPT, "attempt 1 to dispatch qualifier by w1"),
        (
            TimelineKind.DISPATCH_RESULT,
            "dispatch of qualifier failed: 503 Service Unavailable; retry at "
            f"{(started + timedelta(seconds=1.71)).isoformat()}",
        ),
        (TimelineKind.FACT, "reconciliation_repair: agent=qualifier"),
        (TimelineKind.DISPATCH_ATTEMPT, "attempt 2 to dispatch qualifier by w2"),
        (TimelineKind.DISPATCH_RESULT, "dispatched qualifier (attempt 2)"),
        (TimelineKind.EVENT, "received participant_joined agent-qualifier (EV_join)"),
        (TimelineKind.FACT, "participant_joined: identity=agent-qualifier"),
        (TimelineKind.FACT, "room_closed: reason=departure timeout"),
    ]
    decision = entries[1]
    assert decision.detail["explanation"] == explanation
    assert entries[7].detail["server_answer"] == {"dispatch_id": "AD_1"}
    assert entries[0].detail["body"]["event"] == "room_started"


async def test_timeline_of_a_room_without_a_match(store: Store) -> None:
    await store.record_event("EV_1", "room_started", "lobby", "RM_1", "not json")
    await store.record_decision("EV_1", "lobby", None, [], {"tried": ["support"]})
    entries = await store.timeline("lobby")
    assert [entry.summary for entry in entries] == [
        "received room_started (EV_1)",
        "no rule matched EV_1",
    ]
    assert entries[0].detail["body"] == {"raw": "not json"}
    assert await store.timeline("never-seen") == []


async def test_timeline_can_focus_on_one_session_of_a_reused_room_name(
    store: Store, clock: ManualClock
) -> None:
    for sid in ("RM_old", "RM_new"):
        event_id = f"EV_{sid}"
        await store.record_event(event_id, "room_started", "daily", sid, "{}")
        await store.record_decision(event_id, "daily", "daily", [("qualifier", "")], {})
        await store.record_room_fact("daily", "room_closed", {"reason": "empty"}, room_sid=sid)
        clock.advance(3600)

    assert len(await store.timeline("daily")) == 8
    newest = await store.timeline("daily", room_sid="RM_new")
    assert [entry.kind for entry in newest] == [
        TimelineKind.EVENT,
        TimelineKind.DECISION,
        TimelineKind.DISPATCH_ENQUEUED,
        TimelineKind.FACT,
    ]
    assert all(entry.at >= clock.now - timedelta(seconds=3600) for entry in newest)
    assert len(await store.decisions_for_room("daily", room_sid="RM_old")) == 1


async def test_room_facts_keep_their_detail(store: Store, clock: ManualClock) -> None:
    fact = await store.record_room_fact(
        "r", "participant_left", {"identity": "caller", "reason": "CLIENT_INITIATED"}, room_sid="RM"
    )
    assert (fact.room_name, fact.room_sid, fact.kind, fact.at) == (
        "r",
        "RM",
        "participant_left",
        clock.now,
    )
    [entry] = await store.timeline("r")
    assert entry.detail["detail"] == {"identity": "caller", "reason": "CLIENT_INITIATED"}
