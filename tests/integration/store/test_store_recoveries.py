"""Recoveries of stranded callers: each number of a room session is claimed once, with a fact."""

from __future__ import annotations

import asyncio

from switchboard.store import Store


async def test_a_recovery_number_is_claimed_once_and_explained_by_a_room_fact(store: Store) -> None:
    detail = {"caller": "sip_+15550001", "agents": ["qualifier"], "reason": "the agent left"}
    assert await store.recoveries("call-1", "RM_1") == 0
    assert await store.claim_recovery("call-1", "RM_1", 1, "redispatch", detail)
    assert not await store.claim_recovery("call-1", "RM_1", 1, "redispatch", detail)
    assert await store.recoveries("call-1", "RM_1") == 1
    assert await store.recoveries("call-1", "RM_2") == 0, "a new session of the room starts at 0"
    [entry] = [t for t in await store.timeline("call-1") if t.detail.get("kind")]
    assert entry.detail["kind"] == "caller_stranded"
    assert entry.detail["detail"] == {"action": "redispatch", "recovery": 1, **detail}


async def test_replicas_claiming_the_same_recovery_together_get_it_once(store: Store) -> None:
    claims = await asyncio.gather(
        *(store.claim_recovery("call-2", "RM_1", 1, "redispatch", {}) for _ in range(5))
    )
    assert sorted(claims) == [False, False, False, False, True]
    assert len([t for t in await store.timeline("call-2") if t.detail.get("kind")]) == 1
