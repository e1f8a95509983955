"""The caller queue on SQLite and PostgreSQL: admit, queue in order, free a slot, promote once."""

from __future__ import annotations

import asyncio

from switchboard.rules.admission import Admission
from switchboard.rules.admission_models import Overflow, QueuePolicy
from switchboard.rules.decision import DecisionKind
from switchboard.rules.hold import HoldNotice
from switchboard.store import CallerStatus, Dispatch, Store
from tests.integration.store.fixtures import ManualClock

SERVED = (Dispatch("served", '{"line": "sales"}'),)


def _admission(calls: int = 3, max_waiting: int = 7, **queue: object) -> Admission:
    policy = QueuePolicy.model_validate({"max_waiting": max_waiting, **queue})
    return Admission("agent:served", calls, policy)


async def _call(store: Store, n: int, admission: Admission) -> DecisionKind:
    admitted = await store.admit_caller(admission, f"call_{n}", f"RM_{n}", f"EV_{n}", SERVED)
    return admitted.result.kind


async def _agents(store: Store, room: str) -> list[str]:
    return [job.agent_name for job in (await store.intents_for_rooms([room]))[room]]


async def test_three_served_seven_queued_in_order_then_overflow(store: Store) -> None:
    admission = _admission()
    kinds = [await _call(store, n, admission) for n in range(11)]
    assert kinds == [DecisionKind.DISPATCH] * 3 + [DecisionKind.QUEUED] * 7 + [
        DecisionKind.OVERFLOW
    ]
    assert await _agents(store, "call_0") == ["served"]
    assert await _agents(store, "call_3") == ["hold"]
    hold_job = (await store.intents_for_rooms(["call_4"]))["call_4"][0]
    assert HoldNotice.from_json(hold_job.metadata).position == 2
    assert await _agents(store, "call_10") == ["hold"]  # overflow: hold agent says goodbye
    overflow_job = (await store.intents_for_rooms(["call_10"]))["call_10"][0]
    assert HoldNotice.from_json(overflow_job.metadata).hang_up_message
    waiting = [c for c in await store.active_callers() if c.status is CallerStatus.WAITING]
    assert [(c.room_name, c.position) for c in waiting] == [
        (f"call_{n}", n - 2) for n in range(3, 10)
    ]


async def test_admitting_a_room_again_changes_nothing(store: Store) -> None:
    admission = _admission(calls=1)
    first = await store.admit_caller(admission, "call_0", "RM_0", "EV_0", SERVED)
    again = await store.admit_caller(admission, "call_0", "RM_0", "EV_0b", SERVED)
    assert first.new and not again.new
    assert again.result.kind is DecisionKind.DISPATCH and again.jobs == 0
    assert len(await store.active_callers()) == 1


async def test_a_freed_slot_promotes_the_first_in_line_once(store: Store) -> None:
    admission = _admission(calls=1)
    for n in range(3):
        await _call(store, n, admission)
    assert await store.release_caller("call_0", "RM_0", agent_name="someone-else") == []
    promoted = await store.release_caller("call_0", "RM_0", agent_name="served")
    assert [c.room_name for c in promoted] == ["call_1"]
    assert await _agents(store, "call_1") == ["hold", "served"]
    assert await store.release_caller("call_0", "RM_0", agent_name="served") == []
    again = await store.release_caller("call_0", "RM_0", agent_name=None)
    assert again == []
    waiting = [c for c in await store.active_callers() if c.status is CallerStatus.WAITING]
    assert [(c.room_name, c.position) for c in waiting] == [("call_2", 1)]


async def test_concurrent_releases_promote_each_caller_once(store: Store) -> None:
    admission = _admission(calls=3)
    for n in range(10):
        await _call(store, n, admission)
    results = await asyncio.gather(
        *(store.release_caller(f"call_{n}", f"RM_{n}", agent_name="served") for n in range(3))
    )
    promoted = sorted(c.room_name for batch in results for c in batch)
    assert promoted == ["call_3", "call_4", "call_5"]
    serving = [c for c in await store.active_callers() if c.status is CallerStatus.SERVING]
    assert sorted(c.room_name for c in serving) == ["call_3", "call_4", "call_5"]


async def test_a_waiting_caller_who_hangs_up_leaves_the_line(store: Store) -> None:
    admission = _admission(calls=1)
    for n in range(3):
        await _call(store, n, admission)
    assert await store.release_caller("call_1", "RM_1", agent_name=None) == []
    waiting = [c for c in await store.active_callers() if c.status is CallerStatus.WAITING]
    assert [(c.room_name, c.position) for c in waiting] == [("call_2", 1)]


async def test_waiting_too_long_runs_the_overflow_agent(store: Store, clock: ManualClock) -> None:
    admission = _admission(
        calls=1, max_wait_seconds=60, overflow=Overflow(agent="voicemail").model_dump()
    )
    await _call(store, 0, admission)
    await _call(store, 1, admission)
    clock.advance(30)
    assert await store.expire_waiting_callers() == []
    clock.advance(31)
    [expired] = await store.expire_waiting_callers()
    assert expired.room_name == "call_1"
    assert await _agents(store, "call_1") == ["hold", "voicemail"]
    assert [c.room_name for c in await store.active_callers()] == ["call_0"]
