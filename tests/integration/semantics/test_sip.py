"""SIP behaviour of the real livekit-sip, driven by sipp (facts e, h, i)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit import api
from livekit.api.twirp_client import SipCallError

from switchboard.stack.stack import Stack
from tests.support.participants import agent_names_in_room, eventually
from tests.support.sipp import Sipp, start_uac, start_uas
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.sip

CALLED = "+19497710000"
CALLER = "+15551230001"


@pytest.fixture
async def outbound_trunk(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[str, Sipp]]:
    """A sipp phone answering with the parametrized code, and an outbound trunk pointing at it."""
    code, reason = getattr(request, "param", (200, "OK"))
    phone = start_uas(tmp_path, livekit_stack.config.node_ip, code, reason)
    trunk = await lkapi.sip.create_outbound_trunk(
        api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(
                name=f"sipp-{code}", address=phone.address, numbers=["+15550000000"]
            )
        )
    )
    yield trunk.sip_trunk_id, phone
    phone.stop()
    await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


async def test_e_create_sip_participant_into_a_new_room_brings_the_unnamed_worker(
    probe_workers: WorkerPool,
    lkapi: api.LiveKitAPI,
    outbound_trunk: tuple[str, Sipp],
    room_name: str,
) -> None:
    trunk_id, _phone = outbound_trunk
    await lkapi.sip.create_sip_participant(
        api.CreateSIPParticipantRequest(
            sip_trunk_id=trunk_id, sip_call_to="+15557654321", room_name=room_name
        )
    )
    try:
        await eventually(lambda: _has_agents(lkapi, room_name, 1), timeout=20)
        await asyncio.sleep(3)
        assert await agent_names_in_room(lkapi, room_name) == ["unnamed"]
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room_name)
        assert [d.agent_name for d in dispatches] == [""]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def _has_agents(lkapi: api.LiveKitAPI, room: str, count: int) -> bool:
    """``count`` agents in ``room``, each ready (its probe label set: an agent that has joined
    but not yet set it is 'not-ready', which a loaded machine shows for seconds)."""
    agents = await agent_names_in_room(lkapi, room)
    return len(agents) >= count and "not-ready" not in agents


@pytest.mark.parametrize(
    ("outbound_trunk", "twirp_code", "http_status", "message"),
    [
        ((486, "Busy Here"), "resource_exhausted", 429, "INVITE failed: sip status: 486"),
        ((480, "Temporarily Unavailable"), "resource_exhausted", 429, "sip status: 480"),
        (
            (482, "Loop Detected"),
            "failed_precondition",
            412,
            "unexpected status from INVITE response: sip status: 482: Loop Detected",
        ),
    ],
    indirect=["outbound_trunk"],
    ids=["486", "480", "482"],
)
async def test_i_wait_until_answered_raises_sip_call_error_with_the_status(
    lkapi: api.LiveKitAPI,
    outbound_trunk: tuple[str, Sipp],
    room_name: str,
    twirp_code: str,
    http_status: int,
    message: str,
) -> None:
    trunk_id, phone = outbound_trunk
    code = int(phone.process.name.split("-")[1])
    await _room_no_worker_serves(lkapi, room_name)
    try:
        with pytest.raises(SipCallError) as caught:
            await lkapi.sip.create_sip_participant(
                api.CreateSIPParticipantRequest(
                    sip_trunk_id=trunk_id,
                    sip_call_to="+15557654321",
                    room_name=room_name,
                    wait_until_answered=True,
                )
            )
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
    error = caught.value
    assert isinstance(error, api.TwirpError)
    assert (error.code, error.status) == (twirp_code, http_status)
    assert message in error.message
    assert error.sip_status_code == code
    assert error.metadata["sip_status_code"] == str(code)
    assert error.sip_status == phone_reason(code)


async def _room_no_worker_serves(lkapi: api.LiveKitAPI, room: str) -> None:
    """Create ``room`` with an agent list no worker serves, so dialing into it brings no agent.

    Into a new room the dial would bring the unnamed worker (fact e), and deleting the room
    while that job is still starting makes the server restart the job in a re-created room:
    with four dials, jobs piled up on a loaded machine and starved the next test's agent.
    """
    await lkapi.room.create_room(
        api.CreateRoomRequest(name=room, agents=[api.RoomAgentDispatch(agent_name="nobody")])
    )


def phone_reason(code: int) -> str:
    return {486: "Busy Here", 480: "Temporarily Unavailable", 482: "Loop Detected"}[code]


async def test_i_wait_until_answered_returns_when_the_phone_answers(
    lkapi: api.LiveKitAPI, outbound_trunk: tuple[str, Sipp], room_name: str
) -> None:
    trunk_id, _phone = outbound_trunk
    await _room_no_worker_serves(lkapi, room_name)
    info = await lkapi.sip.create_sip_participant(
        api.CreateSIPParticipantRequest(
            sip_trunk_id=trunk_id,
            sip_call_to="+15557654321",
            room_name=room_name,
            wait_until_answered=True,
        )
    )
    try:
        assert info.participant_identity == "sip_+15557654321"
        assert info.room_name == room_name
        response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room_name))
        sip = [p for p in response.participants if p.kind == api.ParticipantInfo.Kind.SIP]
        assert len(sip) == 1
        # The RPC returns at the 200 OK; the attribute update reaches the room a moment later.

        async def active() -> bool:
            response = await lkapi.room.list_participants(
                api.ListParticipantsRequest(room=room_name)
            )
            return any(
                p.attributes.get("sip.callStatus") == "active" for p in response.participants
            )

        await eventually(active, timeout=5)
        assert sip[0].attributes["sip.phoneNumber"] == "+15557654321"
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


@pytest.fixture
async def inbound_route(
    lkapi: api.LiveKitAPI, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[str, str, str]]:
    """An inbound trunk for one called number and an individual dispatch rule (prefix "call")."""
    called, agents = request.param
    trunk = await lkapi.sip.create_inbound_trunk(
        api.CreateSIPInboundTrunkRequest(
            trunk=api.SIPInboundTrunkInfo(
                name=f"in-{called}",
                numbers=[called],
                headers_to_attributes={"X-User-To-User": "call-data"},
            )
        )
    )
    room_config = (
        api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=a) for a in agents])
        if agents
        else None
    )
    rule = await lkapi.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(
            dispatch_rule=api.SIPDispatchRuleInfo(
                name=f"rule-{called}",
                trunk_ids=[trunk.sip_trunk_id],
                rule=api.SIPDispatchRule(
                    dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                ),
                room_config=room_config,
            )
        )
    )
    yield called, trunk.sip_trunk_id, rule.sip_dispatch_rule_id
    await lkapi.sip.delete_dispatch_rule(
        api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
    )
    await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


async def _room_with_prefix(lkapi: api.LiveKitAPI, prefix: str) -> str:
    found: list[str] = []

    async def exists() -> bool:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [r.name for r in rooms.rooms if r.name.startswith(prefix)]
        return bool(found)

    await eventually(exists, timeout=20)
    return found[0]


@pytest.mark.parametrize(
    ("inbound_route", "expected_agents"),
    [(("+19497710000", []), ["unnamed"]), (("+19497710001", ["qualifier"]), ["qualifier"])],
    indirect=["inbound_route"],
    ids=["rule-without-agents", "rule-with-room-config-agents"],
)
async def test_h_inbound_call_room_name_attributes_and_agents(
    livekit_stack: Stack,
    probe_workers: WorkerPool,
    lkapi: api.LiveKitAPI,
    inbound_route: tuple[str, str, str],
    expected_agents: list[str],
    tmp_path: Path,
) -> None:
    called, trunk_id, rule_id = inbound_route
    caller = f"+1555{called[-7:]}"
    phone = start_uac(
        tmp_path,
        livekit_stack.config.node_ip,
        livekit_stack.config.sip_address,
        caller=caller,
        called=called,
        xheader="X-User-To-User: case-42",
    )
    room = ""
    try:
        room = await _room_with_prefix(lkapi, f"call_{caller}_")
        assert re.fullmatch(rf"call_{re.escape(caller)}_\w{{12}}", room)

        async def sip_participant() -> bool:
            response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
            return any(p.kind == api.ParticipantInfo.Kind.SIP for p in response.participants)

        await eventually(sip_participant)
        response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
        (sip,) = [p for p in response.participants if p.kind == api.ParticipantInfo.Kind.SIP]
        assert sip.identity == f"sip_{caller}"
        assert sip.attributes["sip.phoneNumber"] == caller
        assert sip.attributes["sip.trunkPhoneNumber"] == called
        assert sip.attributes["sip.trunkID"] == trunk_id
        assert sip.attributes["sip.ruleID"] == rule_id
        assert sip.attributes["sip.callID"].startswith("SCL_")
        assert sip.attributes["call-data"] == "case-42"

        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
        expected_dispatches = ["" if a == "unnamed" else a for a in expected_agents]
        assert [d.agent_name for d in dispatches] == expected_dispatches
        await eventually(lambda: _has_agents(lkapi, room, 1), timeout=20)
        await asyncio.sleep(3)
        assert await agent_names_in_room(lkapi, room) == expected_agents
    finally:
        if room:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        phone.stop()
