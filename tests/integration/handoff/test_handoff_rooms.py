"""start_agent_room against the real livekit-server, with the unnamed worker running."""

from __future__ import annotations

import asyncio
import json

import pytest
from livekit import api

from switchboard.handoff import RoomSetupError, start_agent_room
from switchboard.stack.stack import Stack
from tests.support.participants import agent_names_in_room, eventually
from tests.support.workers import WorkerPool

# How long we keep watching after the expected agent joined, so a late extra agent is caught.
SETTLE_SECONDS = 3.0


async def _settled_agents(lkapi: api.LiveKitAPI, room: str, expected: int) -> list[str]:
    async def joined() -> bool:
        agents = await agent_names_in_room(lkapi, room)
        return len(agents) >= expected and "not-ready" not in agents

    await eventually(joined, timeout=20)
    await asyncio.sleep(SETTLE_SECONDS)
    return await agent_names_in_room(lkapi, room)


async def _dispatches(lkapi: api.LiveKitAPI, room: str) -> list[api.AgentDispatch]:
    return list(await lkapi.agent_dispatch.list_dispatch(room_name=room))


async def _room(lkapi: api.LiveKitAPI, name: str) -> api.Room | None:
    listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[name]))
    return next((r for r in listed.rooms if r.name == name), None)


async def test_new_room_gets_only_the_named_agent_and_the_timeouts(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    started = await start_agent_room(
        lkapi, room_name, "outbound-caller", {"number": "+15550100"}, 60, 10
    )
    try:
        assert (started.created_room, started.created_dispatch) == (True, True)
        assert started.dispatch.agent_name == "outbound-caller"
        (dispatch,) = await _dispatches(lkapi, room_name)  # no automatic "" dispatch
        assert (dispatch.id, dispatch.agent_name) == (started.dispatch.id, "outbound-caller")
        assert json.loads(dispatch.metadata) == {"number": "+15550100"}
        room = await _room(lkapi, room_name)
        assert room is not None
        assert (room.empty_timeout, room.departure_timeout) == (60, 10)

        assert await _settled_agents(lkapi, room_name, 1) == ["outbound-caller"]
        (job,) = probe_workers.jobs(room_name)
        assert (job["label"], json.loads(job["metadata"])) == (
            "outbound-caller",
            {"number": "+15550100"},
        )
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_second_call_adds_nothing(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    first = await start_agent_room(lkapi, room_name, "qualifier")
    try:
        second = await start_agent_room(lkapi, room_name, "qualifier")
        assert (second.created_room, second.created_dispatch) == (False, False)
        assert second.dispatch.id == first.dispatch.id
        assert second.room.sid == first.room.sid
        assert [d.id for d in await _dispatches(lkapi, room_name)] == [first.dispatch.id]
        assert await _settled_agents(lkapi, room_name, 1) == ["qualifier"]
        assert [j["label"] for j in probe_workers.jobs(room_name)] == ["qualifier"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_concurrent_calls_dispatch_the_agent_once(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """Both callers see no room and both send CreateRoom(agents=[...]); the server keeps one."""
    results = await asyncio.gather(
        *(start_agent_room(lkapi, room_name, "qualifier") for _ in range(3))
    )
    try:
        (dispatch,) = await _dispatches(lkapi, room_name)
        assert {r.dispatch.id for r in results} == {dispatch.id}
        assert await _settled_agents(lkapi, room_name, 1) == ["qualifier"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_existing_room_gets_exactly_the_missing_dispatch(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    created = await lkapi.room.create_room(
        api.CreateRoomRequest(
            name=room_name, agents=[api.RoomAgentDispatch(agent_name="qualifier")]
        )
    )
    try:
        assert await _settled_agents(lkapi, room_name, 1) == ["qualifier"]
        before = {d.id for d in await _dispatches(lkapi, room_name)}

        started = await start_agent_room(lkapi, room_name, "outbound-caller", "case-7")

        assert (started.created_room, started.created_dispatch) == (False, True)
        assert started.room.sid == created.sid
        after = await _dispatches(lkapi, room_name)
        (added,) = [d for d in after if d.id not in before]
        assert (added.id, added.agent_name, added.metadata) == (
            started.dispatch.id,
            "outbound-caller",
            "case-7",
        )
        assert {d.id for d in after} - {added.id} == before
        agents = await _settled_agents(lkapi, room_name, 2)
        assert agents == ["outbound-caller", "qualifier"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_empty_agent_name_is_refused_and_nothing_is_created(
    lkapi: api.LiveKitAPI, room_name: str
) -> None:
    with pytest.raises(RoomSetupError, match="needs an agent_name"):
        await start_agent_room(lkapi, room_name, "")
    assert await _room(lkapi, room_name) is None


async def test_wrong_secret_becomes_room_setup_error_naming_the_401(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    config = livekit_stack.config
    intruder = api.LiveKitAPI(config.http_url, config.api_key, "not-the-secret-" * 3)
    try:
        with pytest.raises(RoomSetupError) as caught:
            await start_agent_room(intruder, room_name, "qualifier")
    finally:
        await intruder.aclose()
    message = str(caught.value)
    assert f"room {room_name!r}" in message
    assert "unknown (HTTP 401)" in message  # all the real server says
    assert "LIVEKIT_API_SECRET" in message
    assert await _room(lkapi, room_name) is None
