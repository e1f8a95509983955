"""leave_when_human_joins in a real agent (presence_worker.py), real rtc and SIP participants."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit import api, rtc

from switchboard.handoff import dial, start_agent_room
from switchboard.stack.stack import Stack
from tests.integration.handoff.conftest import PRESENCE_AGENT, PhoneFactory, PresenceWorker
from tests.support.participants import eventually, join

# How long an agent must stay after it saw a participant that is not the human.
STAYS_SECONDS = 1.5


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


async def _agent(lkapi: api.LiveKitAPI, room: str) -> api.ParticipantInfo | None:
    agents = [
        p for p in await _participants(lkapi, room) if p.kind == api.ParticipantInfo.Kind.AGENT
    ]
    assert len(agents) <= 1, agents
    return agents[0] if agents else None


async def _start_watching_agent(lkapi: api.LiveKitAPI, room: str, **options: Any) -> None:
    """Dispatch the presence agent with ``options`` and wait until its watch is in place."""
    await start_agent_room(lkapi, room, PRESENCE_AGENT, options)

    async def ready() -> bool:
        agent = await _agent(lkapi, room)
        return agent is not None and agent.attributes.get("presence.ready") == "1"

    await eventually(ready, timeout=20)


async def _agent_stays_after_seeing(lkapi: api.LiveKitAPI, room: str, identity: str) -> None:
    async def seen() -> bool:
        agent = await _agent(lkapi, room)
        assert agent is not None, f"the agent left when {identity!r} joined"
        return identity in agent.attributes.get("presence.seen", "").split(",")

    await eventually(seen, timeout=10)
    await asyncio.sleep(STAYS_SECONDS)
    assert await _agent(lkapi, room) is not None, f"the agent left for {identity!r}"


async def _agent_left_and_room_stays(
    lkapi: api.LiveKitAPI, room: str, humans: list[rtc.Room], identities: set[str]
) -> None:
    async def gone() -> bool:
        return await _agent(lkapi, room) is None

    await eventually(gone, timeout=15)
    await asyncio.sleep(1)  # a delete_room would have closed the room by now
    listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
    assert [r.name for r in listed.rooms] == [room]
    assert {p.identity for p in await _participants(lkapi, room)} >= identities
    assert all(human.isconnected() for human in humans)


async def test_identity_pattern_leaves_for_the_matching_human_only(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    await _start_watching_agent(
        lkapi, room_name, identity_pattern=r"human-.+", exclude_identities=["human-caller"]
    )
    humans: list[rtc.Room] = []
    try:
        humans.append(await join(livekit_stack, room_name, "visitor-human-1"))  # no full match
        await _agent_stays_after_seeing(lkapi, room_name, "visitor-human-1")
        humans.append(await join(livekit_stack, room_name, "human-caller"))  # excluded
        await _agent_stays_after_seeing(lkapi, room_name, "human-caller")
        assert presence_worker.left(room_name) == []

        humans.append(await join(livekit_stack, room_name, "human-1"))

        await _agent_left_and_room_stays(
            lkapi, room_name, humans, {"visitor-human-1", "human-caller", "human-1"}
        )
        assert presence_worker.left(room_name) == ["human-1"]
    finally:
        for human in humans:
            await human.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_attribute_set_after_joining_makes_the_agent_leave(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    await _start_watching_agent(lkapi, room_name, attribute=["switchboard.role", "human-agent"])
    caller = await join(livekit_stack, room_name, "caller")
    bob = await join(livekit_stack, room_name, "bob", attributes={"switchboard.role": "trainee"})
    try:
        await _agent_stays_after_seeing(lkapi, room_name, "caller")
        await _agent_stays_after_seeing(lkapi, room_name, "bob")
        assert presence_worker.left(room_name) == []

        # Server-side, as a control plane would (the test token may not update its own).
        await lkapi.room.update_participant(
            api.UpdateParticipantRequest(
                room=room_name, identity="bob", attributes={"switchboard.role": "human-agent"}
            )
        )

        await _agent_left_and_room_stays(lkapi, room_name, [caller, bob], {"caller", "bob"})
        assert presence_worker.left(room_name) == ["bob"]
    finally:
        await caller.disconnect()
        await bob.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_count_present_sends_the_agent_away_at_once_for_a_human_already_there(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    # A room with no automatic dispatch ("nobody" has no worker), so only our agent comes.
    await start_agent_room(lkapi, room_name, "nobody")
    human = await join(livekit_stack, room_name, "human-1")
    try:
        await start_agent_room(
            lkapi, room_name, PRESENCE_AGENT, {"identity_pattern": "human-1", "count_present": True}
        )

        async def left() -> bool:
            return presence_worker.left(room_name) == ["human-1"]

        await eventually(left, timeout=20)
        await _agent_left_and_room_stays(lkapi, room_name, [human], {"human-1"})
    finally:
        await human.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


@pytest.mark.sip
async def test_sip_human_counts_once_answered_not_while_ringing(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    phone: PhoneFactory,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    ringing = await phone(None)
    desk = await phone(200)
    await _start_watching_agent(lkapi, room_name, kinds=["sip"])
    caller = await join(livekit_stack, room_name, "web-caller")
    try:
        await _agent_stays_after_seeing(lkapi, room_name, "web-caller")
        request = api.CreateSIPParticipantRequest(
            sip_trunk_id=ringing.trunk_id,
            sip_call_to="+15557000001",
            room_name=room_name,
            participant_identity="desk-ringing",
        )
        request.ringing_timeout.seconds = 30
        await lkapi.sip.create_sip_participant(request)
        await _agent_stays_after_seeing(lkapi, room_name, "desk-ringing")
        statuses = {
            p.identity: p.attributes.get("sip.callStatus")
            for p in await _participants(lkapi, room_name)
        }
        assert statuses["desk-ringing"] == "ringing"
        assert presence_worker.left(room_name) == []

        await dial(
            lkapi,
            trunk_id=desk.trunk_id,
            number="+15557000002",
            room_name=room_name,
            identity="desk",
        )

        await _agent_left_and_room_stays(lkapi, room_name, [caller], {"web-caller", "desk"})
        assert presence_worker.left(room_name) == ["desk"]
    finally:
        await caller.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def _sip_caller_in_room(
    lkapi: api.LiveKitAPI, phone: PhoneFactory, room_name: str
) -> api.ParticipantInfo:
    """A room with no automatic dispatch, and a sipp phone on the line (answered) in it."""
    await start_agent_room(lkapi, room_name, "nobody")
    line = await phone(200)
    await dial(
        lkapi, trunk_id=line.trunk_id, number="+15557000003", room_name=room_name, identity="caller"
    )

    # CreateSIPParticipant returns on the 200 OK; livekit-sip sets ``sip.callStatus`` to
    # "active" in a separate update that can reach ListParticipants a moment later.
    async def answered() -> bool:
        [caller] = await _participants(lkapi, room_name)
        return caller.attributes.get("sip.callStatus") == "active"

    await eventually(answered, timeout=5)
    [caller] = await _participants(lkapi, room_name)
    assert caller.kind == api.ParticipantInfo.Kind.SIP
    return caller


@pytest.mark.sip
async def test_sip_caller_already_on_the_line_never_counts_a_human_joining_does(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    phone: PhoneFactory,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    """Defaults only (standard + SIP, no pattern): the caller who is there is not the human."""
    await _sip_caller_in_room(lkapi, phone, room_name)
    try:
        await _start_watching_agent(lkapi, room_name)
        await asyncio.sleep(STAYS_SECONDS)
        assert await _agent(lkapi, room_name) is not None, "the agent left for the caller"
        assert presence_worker.left(room_name) == []

        human = await join(livekit_stack, room_name, "human-1")
        try:
            await _agent_left_and_room_stays(lkapi, room_name, [human], {"caller", "human-1"})
            assert presence_worker.left(room_name) == ["human-1"]
        finally:
            await human.disconnect()
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


@pytest.mark.sip
async def test_count_present_counts_the_sip_caller_already_on_the_line(
    livekit_stack: Stack,
    presence_worker: PresenceWorker,
    phone: PhoneFactory,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    await _sip_caller_in_room(lkapi, phone, room_name)
    try:
        await start_agent_room(lkapi, room_name, PRESENCE_AGENT, {"count_present": True})

        async def left() -> bool:
            return presence_worker.left(room_name) == ["caller"]

        await eventually(left, timeout=20)
        await _agent_left_and_room_stays(lkapi, room_name, [], {"caller"})
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
