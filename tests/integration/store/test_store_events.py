"""Events are recorded once per id; decisions are recorded once per event, with their jobs."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from switchboard.store import (
    Dispatch,
    JobStatus,
    NewDecision,
    NewFact,
    NewWebhook,
    Store,
    StoreError,
    TimelineKind,
    UnknownEventError,
)
from tests.integration.store.fixtures import ManualClock


def _body(event_id: str, event: str = "room_started", room: str = "support-1") -> str:
    return json.dumps({"id": event_id, "event": event, "room": {"sid": "RM_1", "name": room}})


async def _record(
    store: Store, event_id: str, event: str = "room_started", room: str = "r"
) -> bool:
    return await store.record_event(event_id, event, room, "RM_1", _body(event_id, event, room))


async def test_first_delivery_is_new_and_a_redelivery_is_not(
    store: Store, clock: ManualClock
) -> None:
    assert await _record(store, "EV_1")
    assert not await _record(store, "EV_1")
    stored = await store.get_event("EV_1")
    assert stored is not None
    assert stored.received_at == clock.now
    assert json.loads(stored.body_json)["id"] == "EV_1"
    assert await store.get_event("EV_unknown") is None


async def test_five_concurrent_replays_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(_record(store, "EV_replayed") for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_replays_across_two_replicas_have_one_winner(store_url: str) -> None:
    replicas = await asyncio.gather(Store.open(store_url), Store.open(store_url))
    try:
        for round_number in range(5):
            event_id = f"EV_round_{round_number}"
            results = await asyncio.gather(
                *(_record(replica, event_id) for replica in replicas for _ in range(4))
            )
            assert results.count(True) == 1, results
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))


async def test_decision_is_recorded_once_with_its_dispatch_jobs(store: Store) -> None:
    await _record(store, "EV_1", room="support-1")
    dispatches = [Dispatch("qualifier", '{"tier": "gold"}'), ("outbound-caller", "")]
    explanation = {"matched": "support", "conditions": [{"room.name": "glob support-*"}]}

    assert await store.record_decision("EV_1", "support-1", "support", dispatches, explanation)
    assert not await store.record_decision("EV_1", "support-1", "other", [("x", "")], {})

    [decision] = await store.decisions_for_room("support-1")
    assert decision.rule_id == "support"
    assert decision.room_sid == "RM_1"
    assert decision.dispatches == (
        Dispatch("qualifier", '{"tier": "gold"}'),
        Dispatch("outbound-caller", ""),
    )
    assert decision.explanation == explanation
    jobs = (await store.intents_for_rooms(["support-1"]))["support-1"]
    assert [(job.agent_name, job.metadata, job.status) for job in jobs] == [
        ("qualifier", '{"tier": "gold"}', JobStatus.PENDING),
        ("outbound-caller", "", JobStatus.PENDING),
    ]
    assert {job.event_id for job in jobs} == {"EV_1"}


async def test_a_second_event_in_the_room_does_not_double_an_agent(store: Store) -> None:
    await _record(store, "EV_started", "room_started", "support-1")
    await _record(store, "EV_joined", "participant_joined", "support-1")
    assert await store.record_decision("EV_started", "support-1", "a", [("qualifier", "")], {})
    assert await store.record_decision("EV_joined", "support-1", "b", [("qualifier", "")], {})
    assert len(await store.decisions_for_room("support-1")) == 2
    assert len((await store.intents_for_rooms(["support-1"]))["support-1"]) == 1


async def test_no_match_is_recorded_too(store: Store) -> None:
    await _record(store, "EV_1", room="lobby")
    assert await store.record_decision("EV_1", "lobby", None, [], {"reason": "no rule matched"})
    [decision] = await store.decisions_for_room("lobby")
    assert decision.rule_id is None
    assert decision.dispatches == ()
    assert await store.pending_count() == 0


async def test_decision_on_an_unrecorded_event_is_refused(store: Store) -> None:
    with pytest.raises(UnknownEventError, match="record_event first"):
        await store.record_decision("EV_missing", "r", "rule", [("qualifier", "")], {})
    assert await store.pending_count() == 0


async def test_decision_for_the_wrong_room_is_refused(store: Store) -> None:
    await _record(store, "EV_1", room="room-a")
    with pytest.raises(StoreError, match="belongs to room 'room-a'"):
        await store.record_decision("EV_1", "room-b", "rule", [("qualifier", "")], {})
    assert await store.decisions_for_room("room-a") == []


async def test_undecided_events_are_found_for_recovery(store: Store, clock: ManualClock) -> None:
    await _record(store, "EV_decided", "room_started", "r1")
    await _record(store, "EV_lost", "participant_joined", "r2")
    await _record(store, "EV_ignored", "track_published", "r3")
    await store.record_decision("EV_decided", "r1", None, [], {})
    clock.advance(5)
    await _record(store, "EV_fresh", "room_started", "r4")

    types = {"room_started", "participant_joined"}
    found = await store.undecided_events(types, older_than_seconds=1)
    assert [event.event_id for event in found] == ["EV_lost"]


async def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="naive datetime"):
        await store.record_event("EV_1", "room_started", "r", "RM_1", "{}", datetime(2026, 1, 1))


def _webhook(event_id: str, room: str, agent: str = "qualifier") -> NewWebhook:
    return NewWebhook(
        event_id,
        "participant_joined",
        room,
        "RM_1",
        _body(event_id, "participant_joined", room),
        decision=NewDecision("vip", [(agent, "")], {"text": "vip matched"}),
        fact=NewFact("participant_joined", {"identity": "caller"}),
    )


async def test_webhooks_are_recorded_with_their_decisions_and_facts_once(store: Store) -> None:
    first = await store.record_webhooks(
        [_webhook("EV_a", "room-a"), _webhook("EV_b", "room-b"), _webhook("EV_a", "room-a")]
    )
    assert first == [True, True, False]
    assert await store.record_webhooks([_webhook("EV_b", "room-b")]) == [False]
    # Another event of room-a wanting the same agent: recorded, but no second job.
    assert await store.record_webhooks([_webhook("EV_c", "room-a")]) == [True]

    assert [d.event_id for d in await store.decisions_for_room("room-a")] == ["EV_a", "EV_c"]
    jobs = await store.intents_for_rooms(["room-a", "room-b"])
    assert [(j.agent_name, j.room_sid, j.event_id) for j in jobs["room-a"]] == [
        ("qualifier", "RM_1", "EV_a")
    ]
    assert [j.event_id for j in jobs["room-b"]] == ["EV_b"]
    kinds = [entry.kind for entry in await store.timeline("room-b")]
    assert kinds == [
        TimelineKind.EVENT,
        TimelineKind.DECISION,
        TimelineKind.DISPATCH_ENQUEUED,
        TimelineKind.FACT,
    ]
    assert await store.undecided_events(["participant_joined"], older_than_seconds=0) == []


async def test_batches_racing_across_two_replicas_record_each_event_once(store_url: str) -> None:
    replicas = await asyncio.gather(Store.open(store_url), Store.open(store_url))
    try:
        batches = [
            [_webhook(f"EV_{(start + i) % 30}", f"room-{(start + i) % 30}") for i in range(10)]
            for start in range(0, 30, 3)
        ]
        results = await asyncio.gather(
            *(replica.record_webhooks(batch) for replica in replicas for batch in batches)
        )
        recorded = [
            webhook.event_id
            for batch, answers in zip(batches * 2, results, strict=True)
            for webhook, answer in zip(batch, answers, strict=True)
            if answer
        ]
        assert sorted(recorded) == sorted(f"EV_{i}" for i in range(30))
        jobs = await replicas[0].intents_for_rooms([f"room-{i}" for i in range(30)])
        assert all(len(room_jobs) == 1 for room_jobs in jobs.values()), jobs
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))
