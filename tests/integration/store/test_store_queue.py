"""The dispatch queue: one job per (room session, agent), exclusive claims, leases, retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from switchboard.store import (
    AttemptResult,
    Backoff,
    Job,
    JobStatus,
    Store,
    StoreError,
    UnknownEventError,
)
from tests.integration.store.fixtures import ManualClock

NO_JITTER = Backoff(base_seconds=2.0, factor=3.0, max_seconds=60.0, jitter=0.0)


async def _job(store: Store, room: str = "r", agent: str = "qualifier") -> Job:
    assert await store.enqueue_dispatch(room, agent, "{}", "EV_1", room_sid="RM_1")
    jobs = (await store.intents_for_rooms([room]))[room]
    return next(job for job in jobs if job.agent_name == agent)


async def _claim_one(store: Store, worker: str = "w1", lease: float = 30.0) -> Job:
    [job] = await store.claim_due_jobs(worker, 1, lease)
    return job


async def test_one_job_per_room_session_and_agent(store: Store) -> None:
    assert await store.enqueue_dispatch("r", "qualifier", "{}", "EV_1", room_sid="RM_1")
    assert not await store.enqueue_dispatch("r", "qualifier", '{"x": 1}', "EV_2", room_sid="RM_1")
    assert await store.enqueue_dispatch("r", "outbound-caller", "", "EV_1", room_sid="RM_1")
    assert await store.enqueue_dispatch("r", "qualifier", "{}", "EV_9", room_sid="RM_2")
    jobs = (await store.intents_for_rooms(["r"]))["r"]
    assert [(job.agent_name, job.room_sid, job.event_id) for job in jobs] == [
        ("qualifier", "RM_1", "EV_1"),
        ("outbound-caller", "RM_1", "EV_1"),
        ("qualifier", "RM_2", "EV_9"),
    ]


async def test_room_sid_comes_from_the_recorded_event(store: Store) -> None:
    await store.record_event("EV_1", "room_started", "r", "RM_from_event", "{}")
    assert await store.enqueue_dispatch("r", "qualifier", "", "EV_1")
    assert (await store.intents_for_rooms(["r"]))["r"][0].room_sid == "RM_from_event"
    with pytest.raises(UnknownEventError, match="room_sid="):
        await store.enqueue_dispatch("r", "qualifier", "", "EV_unknown")


async def test_two_replicas_enqueueing_the_same_agent_make_one_job(store_url: str) -> None:
    replicas = await asyncio.gather(Store.open(store_url), Store.open(store_url))
    try:
        for round_number in range(5):
            room = f"room-{round_number}"
            results = await asyncio.gather(
                *(
                    replica.enqueue_dispatch(room, "qualifier", "{}", f"EV_{n}", room_sid="RM")
                    for replica in replicas
                    for n in range(5)
                )
            )
            assert results.count(True) == 1, results
            assert len((await replicas[1].intents_for_rooms([room]))[room]) == 1
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))


async def test_concurrent_claimers_never_get_the_same_job(store_url: str) -> None:
    replicas = await asyncio.gather(Store.open(store_url), Store.open(store_url))
    try:
        for n in range(40):
            await replicas[0].enqueue_dispatch(f"room-{n}", "qualifier", "", "EV", room_sid="RM")

        async def claimer(replica: Store, worker: str) -> list[int]:
            mine: list[int] = []
            while batch := await replica.claim_due_jobs(worker, 3, 60):
                mine += [job.job_id for job in batch]
                assert all(job.lease_owner == worker for job in batch)
            return mine

        claims = await asyncio.gather(
            *(
                claimer(replica, f"replica{r}-worker{w}")
                for r, replica in enumerate(replicas)
                for w in range(4)
            )
        )
        every = [job_id for claimed in claims for job_id in claimed]
        assert len(every) == 40
        assert len(set(every)) == 40
        assert sum(1 for claimed in claims if claimed) > 1
        assert await replicas[1].pending_count() == 40
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))


async def test_claims_take_due_jobs_oldest_first_up_to_the_limit(
    store: Store, clock: ManualClock
) -> None:
    for n in range(3):
        await store.enqueue_dispatch("r", f"agent-{n}", "", "EV", room_sid="RM")
        clock.advance(1)
    first = await store.claim_due_jobs("w1", 2, 30)
    assert [job.agent_name for job in first] == ["agent-0", "agent-1"]
    assert all(job.status is JobStatus.CLAIMED and job.attempts == 1 for job in first)
    assert all(job.lease_expires_at == clock.now + timedelta(seconds=30) for job in first)
    assert [job.agent_name for job in await store.claim_due_jobs("w2", 5, 30)] == ["agent-2"]
    assert await store.claim_due_jobs("w3", 5, 30) == []


async def test_an_expired_lease_makes_the_job_claimable_again(
    store: Store, clock: ManualClock
) -> None:
    await _job(store)
    crashed = await _claim_one(store, "crashed-replica", lease=30)
    clock.advance(29)
    assert await store.claim_due_jobs("w2", 5, 30) == []

    clock.advance(2)
    rescued = await _claim_one(store, "w2")
    assert rescued.job_id == crashed.job_id
    assert rescued.attempts == 2
    assert rescued.lease_owner == "w2"

    first, second = await store.attempts(crashed.job_id)
    assert (first.worker_id, first.result) == ("crashed-replica", AttemptResult.LEASE_EXPIRED)
    assert (second.worker_id, second.result) == ("w2", None)

    # The crashed replica wakes up late: its failure report must not disturb w2's claim.
    assert await store.fail_job(crashed, "timeout", True) is None
    still = await store.get_job(crashed.job_id)
    assert still is not None and (still.status, still.lease_owner) == (JobStatus.CLAIMED, "w2")


async def test_lease_expiry_in_real_time(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        await _job(store)
        held = await _claim_one(store, "w1", lease=0.3)
        assert await store.claim_due_jobs("w2", 1, 0.3) == []
        await asyncio.sleep(0.5)
        assert (await _claim_one(store, "w2")).job_id == held.job_id
    finally:
        await store.close()


async def test_retries_back_off_exponentially(store: Store, clock: ManualClock) -> None:
    await _job(store)
    expected_delays = [2.0, 6.0, 18.0]
    for attempt, delay in enumerate(expected_delays, start=1):
        job = await _claim_one(store)
        assert job.attempts == attempt
        failed = await store.fail_job(job, f"503 from server #{attempt}", True, 5, NO_JITTER)
        assert failed is not None
        assert failed.status is JobStatus.PENDING
        assert failed.next_attempt_at == clock.now + timedelta(seconds=delay)
        assert failed.last_error == f"503 from server #{attempt}"
        clock.advance(delay - 0.001)
        assert await store.claim_due_jobs("w1", 1, 30) == []
        clock.advance(0.001)

    attempts = await store.attempts(job.job_id)
    assert [a.result for a in attempts] == [AttemptResult.RETRY] * 3
    assert attempts[0].retry_at is not None


async def test_jitter_stays_within_its_bounds(store: Store, clock: ManualClock) -> None:
    backoff = Backoff(base_seconds=10.0, factor=2.0, max_seconds=100.0, jitter=0.5)
    for n in range(8):
        await store.enqueue_dispatch(f"r{n}", "qualifier", "", "EV", room_sid="RM")
    delays = set()
    for job in await store.claim_due_jobs("w1", 8, 30):
        failed = await store.fail_job(job, "busy", True, 5, backoff)
        assert failed is not None
        delay = (failed.next_attempt_at - clock.now).total_seconds()
        assert 5.0 <= delay <= 15.0
        delays.add(delay)
    assert len(delays) > 1


async def test_dead_letter_with_the_reason_after_max_attempts(
    store: Store, clock: ManualClock
) -> None:
    await _job(store, room="support-1")
    for attempt in range(1, 4):
        job = await _claim_one(store)
        result = await store.fail_job(job, f"connect timeout #{attempt}", True, 3, NO_JITTER)
        assert result is not None
        clock.advance(60)
    assert result is not None
    assert result.status is JobStatus.DEAD
    assert result.dead_reason == "gave up after 3 attempts; last error: connect timeout #3"
    assert result.finished_at is not None
    assert await store.claim_due_jobs("w1", 5, 30) == []
    assert await store.pending_count() == 0
    [dead] = await store.dead_letters()
    assert (dead.job_id, dead.room_name, dead.agent_name) == (job.job_id, "support-1", "qualifier")
    assert dead.dead_reason is not None and "connect timeout #3" in dead.dead_reason
    assert (await store.unfulfilled_intents(["support-1"]))["support-1"] == [dead]


async def test_a_permanent_error_dead_letters_at_once(store: Store) -> None:
    await _job(store)
    job = await _claim_one(store)
    result = await store.fail_job(job, "404 room not found", False, 5)
    assert result is not None and result.status is JobStatus.DEAD
    assert result.dead_reason == "not retryable: 404 room not found"
    assert [a.result for a in await store.attempts(job.job_id)] == [AttemptResult.DEAD]


async def test_a_job_whose_worker_always_dies_is_dead_lettered(
    store: Store, clock: ManualClock
) -> None:
    await _job(store)
    for _ in range(2):
        await store.claim_due_jobs("w", 1, 10, max_attempts=2)
        clock.advance(11)
    assert await store.claim_due_jobs("w", 1, 10, max_attempts=2) == []
    [dead] = await store.dead_letters()
    assert dead.dead_reason is not None and "lease expired" in dead.dead_reason
    assert [a.result for a in await store.attempts(dead.job_id)] == [
        AttemptResult.LEASE_EXPIRED,
        AttemptResult.LEASE_EXPIRED,
    ]


async def test_completion_records_the_server_answer_once(store: Store, clock: ManualClock) -> None:
    await _job(store, room="support-1")
    job = await _claim_one(store)
    answer = {"dispatch_id": "AD_123", "agent_name": "qualifier"}
    assert await store.complete_job(job, "dispatched", answer)
    assert not await store.complete_job(job, "dispatched", answer)

    done = await store.get_job(job.job_id)
    assert done is not None
    assert (done.status, done.outcome, done.server_answer) == (
        JobStatus.SUCCEEDED,
        "dispatched",
        answer,
    )
    assert done.lease_owner is None and done.finished_at == clock.now
    [attempt] = await store.attempts(job.job_id)
    assert (attempt.result, attempt.server_answer) == (AttemptResult.SUCCEEDED, answer)
    assert await store.pending_count() == 0
    assert (await store.unfulfilled_intents(["support-1", "empty"])) == {
        "support-1": [],
        "empty": [],
    }


async def test_a_late_success_is_still_recorded(store: Store, clock: ManualClock) -> None:
    await _job(store)
    slow = await _claim_one(store, "slow", lease=5)
    clock.advance(6)
    fast = await _claim_one(store, "fast")
    assert await store.complete_job(slow, "dispatched", {"dispatch_id": "AD_1"})
    assert not await store.complete_job(fast, "already_dispatched", {"dispatch_id": "AD_1"})
    done = await store.get_job(slow.job_id)
    assert done is not None and (done.status, done.outcome) == (JobStatus.SUCCEEDED, "dispatched")


async def test_pending_count_and_intents_per_room(store: Store) -> None:
    assert await store.pending_count() == 0
    await _job(store, room="a", agent="qualifier")
    await _job(store, room="a", agent="outbound-caller")
    await _job(store, room="b", agent="qualifier")
    assert await store.pending_count() == 3
    job = await _claim_one(store)
    assert await store.pending_count() == 3
    await store.complete_job(job, "dispatched", {})
    assert await store.pending_count() == 2
    intents = await store.intents_for_rooms(["a", "b", "c"])
    assert {room: len(jobs) for room, jobs in intents.items()} == {"a": 2, "b": 1, "c": 0}
    unfulfilled = await store.unfulfilled_intents(["a", "b"])
    assert sum(len(jobs) for jobs in unfulfilled.values()) == 2


async def test_claim_and_fail_arguments_are_checked(store: Store) -> None:
    with pytest.raises(StoreError, match="limit"):
        await store.claim_due_jobs("w", 0, 30)
    await _job(store)
    job = await _claim_one(store)
    with pytest.raises(StoreError, match="max_attempts"):
        await store.fail_job(job, "x", True, 0)


async def test_a_revived_dead_letter_gets_one_more_attempt_and_a_timeline_fact(
    store: Store, clock: ManualClock
) -> None:
    await _job(store, room="support-2")
    job = await _claim_one(store)
    await store.fail_job(job, "404 room not found", False, 5)
    other = await _job(store, room="support-3")
    assert [j.job_id for j in await store.revive_dead_letters([other.job_id])] == []

    [revived] = await store.revive_dead_letters()
    assert revived.dead_reason == "not retryable: 404 room not found"
    assert await store.dead_letters() == []
    retry = await _claim_one(store)
    assert (retry.job_id, retry.attempts) == (job.job_id, 2)
    assert await store.complete_job(retry, "dispatched", {"dispatch_id": "AD_1"})
    results = [a.result for a in await store.attempts(job.job_id)]
    assert results == [AttemptResult.DEAD, AttemptResult.SUCCEEDED]
    facts = [e for e in await store.timeline("support-2") if e.detail.get("kind") == "revived"]
    assert len(facts) == 1 and "404 room not found" in str(facts[0])
