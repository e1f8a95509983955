"""When the real server keeps a room open and when it closes it (fact g)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from livekit import api, rtc

from switchboard.stack.stack import Stack
from tests.conftest import SESSION_DEPARTURE_TIMEOUT
from tests.support.participants import agent_names_in_room, eventually, join
from tests.support.sipp import start_uas
from tests.support.webhook_sink import WebhookSink
from tests.support.workers import WorkerPool


async def _room_exists(lkapi: api.LiveKitAPI, room: str) -> bool:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
    return any(r.name == room for r in rooms.rooms)


async def _identities(lkapi: api.LiveKitAPI, room: str) -> list[str]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return sorted(p.identity for p in response.participants)


async def _command_agent(human: rtc.Room, command: str) -> None:
    await human.local_participant.send_text(command, topic="probe.cmd")


async def _wait_for_agent(lkapi: api.LiveKitAPI, room: str, present: bool) -> None:
    async def check() -> bool:
        agents = await agent_names_in_room(lkapi, room)
        return (bool(agents) and "not-ready" not in agents) if present else not agents

    await eventually(check, timeout=20)


@pytest.mark.sip
async def test_g_agent_leaves_two_humans_stay_room_stays_open(
    livekit_stack: Stack,
    probe_workers: WorkerPool,
    lkapi: api.LiveKitAPI,
    room_name: str,
    tmp_path: Path,
) -> None:
    """ctx.shutdown() with a SIP and a web human left: the room outlives departure_timeout."""
    phone = start_uas(tmp_path, livekit_stack.config.node_ip, 200)
    trunk = await lkapi.sip.create_outbound_trunk(
        api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(name="g", address=phone.address, numbers=["+15550001"])
        )
    )
    human = await join(livekit_stack, room_name, "web-human", agents=["qualifier"])
    try:
        await _wait_for_agent(lkapi, room_name, present=True)
        await lkapi.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(
                sip_trunk_id=trunk.sip_trunk_id,
                sip_call_to="+15557000001",
                room_name=room_name,
                wait_until_answered=True,
            )
        )
        await _command_agent(human, "shutdown")
        await _wait_for_agent(lkapi, room_name, present=False)
        await asyncio.sleep(2 * SESSION_DEPARTURE_TIMEOUT + 1)
        assert await _room_exists(lkapi, room_name)
        assert await _identities(lkapi, room_name) == ["sip_+15557000001", "web-human"]
    finally:
        await human.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))
        phone.stop()


async def test_g_last_human_leaves_with_agent_in_room_closes_after_departure_timeout(
    livekit_stack: Stack,
    probe_workers: WorkerPool,
    webhook_sink: WebhookSink,
    lkapi: api.LiveKitAPI,
    room_name: str,
) -> None:
    human = await join(livekit_stack, room_name, "only-human", agents=["qualifier"])
    await _wait_for_agent(lkapi, room_name, present=True)
    left_at = time.monotonic()  # before: the server may see the leave before disconnect returns
    await human.disconnect()

    await asyncio.sleep(SESSION_DEPARTURE_TIMEOUT / 2)
    assert await _room_exists(lkapi, room_name), "closed before departure_timeout"

    async def closed() -> bool:
        return not await _room_exists(lkapi, room_name)

    await eventually(closed, timeout=SESSION_DEPARTURE_TIMEOUT + 10)
    # The server keeps the leave time in whole Unix seconds and checks idle rooms every second,
    # so a room closes between departure_timeout - 1 s and departure_timeout + 1 s after the
    # leave (measured: 3.26 s for 4 s, twice at once on a loaded machine).
    assert time.monotonic() - left_at >= SESSION_DEPARTURE_TIMEOUT - 1
    await asyncio.to_thread(webhook_sink.wait_for, room_name, "room_finished")


async def test_g_ctx_shutdown_leaves_the_room_open(
    livekit_stack: Stack, probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    human = await join(livekit_stack, room_name, "stays", agents=["qualifier"])
    try:
        await _wait_for_agent(lkapi, room_name, present=True)
        await _command_agent(human, "shutdown")
        await _wait_for_agent(lkapi, room_name, present=False)
        await asyncio.sleep(SESSION_DEPARTURE_TIMEOUT + 1)
        assert await _room_exists(lkapi, room_name)
        assert await _identities(lkapi, room_name) == ["stays"]
        assert human.connection_state == rtc.ConnectionState.CONN_CONNECTED
    finally:
        await human.disconnect()


async def test_g_ctx_delete_room_closes_it_at_once(
    livekit_stack: Stack, probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    human = await join(livekit_stack, room_name, "evicted", agents=["qualifier"])
    disconnected = asyncio.Event()
    human.on("disconnected", lambda *_: disconnected.set())
    await _wait_for_agent(lkapi, room_name, present=True)
    await _command_agent(human, "delete_room")

    async def closed() -> bool:
        return not await _room_exists(lkapi, room_name)

    await eventually(closed, timeout=5)
    await asyncio.wait_for(disconnected.wait(), timeout=5)
