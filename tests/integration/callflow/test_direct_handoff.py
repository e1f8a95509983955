"""`handoff: direct`: the human is connected the moment they answer, and both agents leave.

sipp calls the seed number humming 600 Hz; the SIP dispatch rule compiled from the seed rules
sends the call to `qualifier` only; the caller answers by DTMF; `outbound-caller` dials the
human (sipp humming 1000 Hz) into the caller's room; when the human answers, both agents leave
and the two phones receive each other's tone (tcpdump at each phone's RTP port).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from livekit import api

from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    HUMAN_NUMBER,
    CallFlowSystem,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import (
    SIP,
    agent_names,
    caller_room,
    participants,
    room_open,
)
from tests.support.participants import eventually
from tests.support.rtp_capture import RtpCapture, tone_level
from tests.support.sipp import free_media_port, start_tone_dtmf_caller, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]

CALLER_HZ, HUMAN_HZ = 600.0, 1000.0
HEARD = 0.2
"""The phones hum at 0.5 of full scale; what arrives at the other phone is about that."""


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    override = {"transfer": {"targets": {"desk": {"handoff": "direct"}}}}
    with start_callflow_system(tmp_path_factory, override, "direct") as system:
        yield system


@pytest.fixture
async def direct_api(direct: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(direct) as client:
        yield client


async def test_human_answers_and_is_connected_at_once_and_the_ai_leaves(
    direct: CallFlowSystem, direct_api: api.LiveKitAPI
) -> None:
    stack, lkapi, host = direct.stack, direct_api, direct.stack.config.node_ip
    caller = "+15551230001"
    caller_media, human_media = free_media_port(host), free_media_port(host)
    at_caller = RtpCapture(direct.workdir, caller_media, "direct-heard-by-caller").start()
    at_human = RtpCapture(direct.workdir, human_media, "direct-heard-by-human").start()
    human = start_tone_uas(
        direct.workdir,
        host,
        port=direct.human_port,
        tone_hz=HUMAN_HZ,
        hold_ms=30000,
        media_port=human_media,
    )
    phone = start_tone_dtmf_caller(
        direct.workdir,
        host,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=8,
        hold_ms=25000,
        media_port=caller_media,
    )
    agents_seen: set[str] = set()
    dispatches_seen: set[str] = set()
    try:
        room = await caller_room(lkapi, caller)

        async def human_in_and_agents_gone() -> bool:
            people = await participants(lkapi, room)
            agents_seen.update(agent_names(people))
            dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
            dispatches_seen.update(d.agent_name for d in dispatches)
            return not agent_names(people) and any(
                p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER
                and p.attributes.get("sip.callStatus") == "active"
                for p in people
            )

        await eventually(human_in_and_agents_gone, timeout=120)
        left_at = time.monotonic()
        people = await participants(lkapi, room)
        assert [p.kind for p in people] == [SIP, SIP]
        assert sorted(p.attributes["sip.phoneNumber"] for p in people) == sorted(
            [caller, HUMAN_NUMBER]
        )
        await asyncio.sleep(4)
        window = (time.time() - 3.5, time.time())
        heard_by_caller = tone_level(list(at_caller), HUMAN_HZ, *window)
        heard_by_human = tone_level(list(at_human), CALLER_HZ, *window)
        assert heard_by_caller > HEARD and heard_by_human > HEARD, (heard_by_caller, heard_by_human)

        await asyncio.sleep(max(0.0, 2 * DEPARTURE_TIMEOUT - (time.monotonic() - left_at)))
        assert await room_open(lkapi, room), "the room stays open for the humans"
        assert agents_seen == {"qualifier", "outbound-caller"}
        assert dispatches_seen <= {"qualifier", "outbound-caller"}  # never the unnamed ""
        assert direct.unnamed.jobs(room) == []

        await asyncio.to_thread(phone.wait_exit, 60)
        await asyncio.to_thread(human.wait_exit, 60)

        async def closed() -> bool:
            return not await room_open(lkapi, room)

        await eventually(closed, timeout=DEPARTURE_TIMEOUT + 15)
    finally:
        phone.stop()
        human.stop()
        at_caller.stop()
        at_human.stop()
