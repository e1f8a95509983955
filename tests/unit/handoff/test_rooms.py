"""start_agent_room against a Twirp stand-in driven by the real livekit-api client."""

from __future__ import annotations

import json

import pytest
from livekit import api

from switchboard.handoff import RoomSetupError, dispatch_metadata, start_agent_room

from .fake_livekit import FakeLiveKit, twirp_error


async def test_new_room_is_created_with_only_the_named_agent(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    started = await start_agent_room(
        lkapi_fake, "consult-1", "outbound-caller", {"number": "+15550100"}, 60, 10
    )
    assert started.created_room and started.created_dispatch
    assert started.dispatch.agent_name == "outbound-caller"
    (create,) = fake_livekit.methods("CreateRoom")
    assert isinstance(create, api.CreateRoomRequest)
    assert (create.empty_timeout, create.departure_timeout) == (60, 10)
    assert [a.agent_name for a in create.agents] == ["outbound-caller"]
    assert json.loads(create.agents[0].metadata) == {"number": "+15550100"}
    assert [d.agent_name for d in fake_livekit.dispatches["consult-1"]] == ["outbound-caller"]
    assert fake_livekit.methods("CreateDispatch") == []


async def test_existing_room_only_gets_the_missing_dispatch(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    fake_livekit.create_bare_room("call-1")
    started = await start_agent_room(lkapi_fake, "call-1", "outbound-caller", "meta")
    assert not started.created_room
    assert started.created_dispatch
    assert fake_livekit.methods("CreateRoom") == []
    (create,) = fake_livekit.methods("CreateDispatch")
    assert isinstance(create, api.CreateAgentDispatchRequest)
    assert (create.room, create.agent_name, create.metadata) == (
        "call-1",
        "outbound-caller",
        "meta",
    )


async def test_second_call_is_a_no_op(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    first = await start_agent_room(lkapi_fake, "call-2", "qualifier")
    second = await start_agent_room(lkapi_fake, "call-2", "qualifier")
    assert not second.created_room and not second.created_dispatch
    assert second.dispatch.id == first.dispatch.id
    assert len(fake_livekit.methods("CreateRoom")) == 1
    assert fake_livekit.methods("CreateDispatch") == []
    assert len(fake_livekit.dispatches["call-2"]) == 1


async def test_empty_agent_name_is_refused(lkapi_fake: api.LiveKitAPI) -> None:
    with pytest.raises(RoomSetupError, match="needs an agent_name"):
        await start_agent_room(lkapi_fake, "room", "")


async def test_api_errors_become_room_setup_errors(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    fake_livekit.fail_with = twirp_error("unauthenticated", "invalid token", 401)
    with pytest.raises(RoomSetupError) as info:
        await start_agent_room(lkapi_fake, "room", "qualifier")
    assert "unauthenticated: invalid token" in str(info.value)
    assert "LIVEKIT_API_KEY" in str(info.value)


def test_dispatch_metadata() -> None:
    assert dispatch_metadata("raw") == "raw"
    assert dispatch_metadata({"b": 1, "a": "x"}) == '{"a":"x","b":1}'
