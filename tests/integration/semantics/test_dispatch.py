"""Which agents the real livekit-server dispatches, for each way a room comes to exist.

Facts a-e of the semantics suite; see docs/livekit-semantics.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from switchboard.stack.stack import Stack
from tests.support.participants import agent_names_in_room, eventually, join
from tests.support.workers import WorkerPool, start_probe_workers

# How long we keep watching after the expected agents joined, so a late extra agent is caught.
SETTLE_SECONDS = 3.0


async def _settled_agents(lkapi: api.LiveKitAPI, room: str, expected: list[str]) -> list[str]:
    async def joined() -> bool:
        agents = await agent_names_in_room(lkapi, room)
        return len(agents) >= len(expected) and "not-ready" not in agents

    await eventually(joined, timeout=20)
    await asyncio.sleep(SETTLE_SECONDS)
    return await agent_names_in_room(lkapi, room)


async def _dispatch_names(lkapi: api.LiveKitAPI, room: str) -> list[str]:
    dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
    return sorted(d.agent_name for d in dispatches)


async def test_a_plain_token_join_dispatches_only_the_unnamed_worker(
    livekit_stack: Stack, probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    human = await join(livekit_stack, room_name, "human")
    try:
        assert await _settled_agents(lkapi, room_name, ["unnamed"]) == ["unnamed"]
        assert await _dispatch_names(lkapi, room_name) == [""]
        assert [j["label"] for j in probe_workers.jobs(room_name)] == ["unnamed"]
    finally:
        await human.disconnect()


async def test_b_token_with_agents_dispatches_only_those_agents(
    livekit_stack: Stack, probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    human = await join(livekit_stack, room_name, "human", agents=["qualifier"])
    try:
        assert await _settled_agents(lkapi, room_name, ["qualifier"]) == ["qualifier"]
        assert await _dispatch_names(lkapi, room_name) == ["qualifier"]
        assert [j["label"] for j in probe_workers.jobs(room_name)] == ["qualifier"]
    finally:
        await human.disconnect()


async def test_c_create_room_with_agents_dispatches_only_those_agents(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    await lkapi.room.create_room(
        api.CreateRoomRequest(
            name=room_name, agents=[api.RoomAgentDispatch(agent_name="outbound-caller")]
        )
    )
    try:
        assert await _settled_agents(lkapi, room_name, ["outbound-caller"]) == ["outbound-caller"]
        assert await _dispatch_names(lkapi, room_name) == ["outbound-caller"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_d_create_dispatch_into_a_missing_room_also_brings_the_unnamed_worker(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """The seed's bug: CreateDispatch auto-creates the room with no agent list."""
    await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="outbound-caller", room=room_name)
    )
    try:
        agents = await _settled_agents(lkapi, room_name, ["outbound-caller", "unnamed"])
        assert agents == ["outbound-caller", "unnamed"]
        assert await _dispatch_names(lkapi, room_name) == ["", "outbound-caller"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_list_dispatch_of_a_missing_room_fails_as_unavailable_and_creates_nothing(
    lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """ListDispatch is routed to the node hosting the room; with no such room nobody answers,
    and the server says 503 "no response from servers" (which livekit-api retries, then raises)
    rather than an empty list. That is why the dispatcher asks ListRooms first, not in parallel."""
    started = time.monotonic()
    with pytest.raises(api.TwirpError) as raised:
        await lkapi.agent_dispatch.list_dispatch(room_name=room_name)
    print(f"ListDispatch of a missing room failed after {time.monotonic() - started:.2f} s")
    assert raised.value.status == 503
    assert "no response from servers" in raised.value.message
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
    assert [room.name for room in rooms.rooms] == []


async def test_d_create_dispatch_into_an_existing_room_adds_only_the_named_agent(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    await lkapi.room.create_room(
        api.CreateRoomRequest(
            name=room_name, agents=[api.RoomAgentDispatch(agent_name="qualifier")]
        )
    )
    try:
        await _settled_agents(lkapi, room_name, ["qualifier"])
        await probe_workers.wait_warm(["outbound-caller"])  # "Ready" in docs/livekit-semantics.md
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name="outbound-caller", room=room_name)
        )
        agents = await _settled_agents(lkapi, room_name, ["outbound-caller", "qualifier"])
        assert agents == ["outbound-caller", "qualifier"]
        assert await _dispatch_names(lkapi, room_name) == ["outbound-caller", "qualifier"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_a_worker_reporting_load_above_target_load_gets_no_job(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, room_name: str, tmp_path: Path
) -> None:
    """'Agent did not join': the server offers a job only to workers below agents.target_load.

    The only worker for "busy-agent" reports load 0.9 (the SDK's default load is CPU use); the
    dispatch is recorded but no job is ever assigned, and nothing is queued for later.
    """
    pool = start_probe_workers(livekit_stack, ["busy-agent"], tmp_path, loads={"busy-agent": 0.9})
    try:
        await lkapi.room.create_room(
            api.CreateRoomRequest(
                name=room_name, agents=[api.RoomAgentDispatch(agent_name="busy-agent")]
            )
        )
        await asyncio.sleep(SETTLE_SECONDS + 2)
        assert await agent_names_in_room(lkapi, room_name) == []
        assert await _dispatch_names(lkapi, room_name) == ["busy-agent"]
        assert pool.jobs(room_name) == []
    finally:
        pool.stop()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


PREWARM_SECONDS = 4.0


async def test_a_worker_is_offered_a_job_before_it_has_a_process_for_it_and_the_job_waits(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, room_name: str, tmp_path: Path
) -> None:
    """'Agent joined late': registered is not ready.

    The server assigns a job to any registered worker below target_load; livekit-agents accepts
    it whether or not it has a warm (initialized) job process, and a job that finds none waits
    until one is spawned and initialized. The worker here keeps one warm process whose
    initialization takes PREWARM_SECONDS; of two rooms created together, one job is assigned
    before any process for it is ready and starts only once one is.
    """
    pool = start_probe_workers(
        livekit_stack,
        ["slow-start"],
        tmp_path,
        extra_env={"PROBE_PREWARM_SECONDS": str(PREWARM_SECONDS)},
    )
    rooms = [f"{room_name}-1", f"{room_name}-2"]
    try:
        assert len(pool.warm_processes("slow-start")) == 1
        dispatched_at = time.time()
        await asyncio.gather(
            *(
                lkapi.room.create_room(
                    api.CreateRoomRequest(
                        name=room, agents=[api.RoomAgentDispatch(agent_name="slow-start")]
                    )
                )
                for room in rooms
            )
        )

        async def both_started() -> bool:
            return all(len(pool.jobs(room)) == 1 for room in rooms)

        await eventually(both_started, timeout=60)
        assert pool.proc_log is not None
        processes = {r["pid"]: r for r in json_lines(pool.proc_log)}
        spawned_after_dispatch = []
        for room in rooms:
            (job,) = pool.jobs(room)
            process = processes[job["pid"]]
            assert job["at"] >= process["ready_at"]
            if process["started_at"] > dispatched_at:
                spawned_after_dispatch.append(round(job["at"] - dispatched_at, 1))
        print(
            f"job started this long after the dispatch, on a process spawned for it: "
            f"{spawned_after_dispatch} s"
        )
        # One job took the warm process; the other was accepted without one and waited for a
        # process that only started initializing after the dispatch.
        assert len(spawned_after_dispatch) == 1
        assert spawned_after_dispatch[0] >= PREWARM_SECONDS
    finally:
        pool.stop()
        for room in rooms:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]
