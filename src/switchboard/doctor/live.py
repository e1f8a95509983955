"""The live edges: read SIP objects, rooms and dispatches from a server, and probe it.

These are the only doctor functions that talk to LiveKit. Everything they read goes through the
same dict converters as the JSON exports, so files and server give the same Inventory.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from google.protobuf.json_format import MessageToDict
from livekit import api

from switchboard.doctor.inventory import (
    Inventory,
    ProbeAgent,
    ProbeResult,
    ServerDispatch,
    ServerParticipant,
    ServerRoom,
)
from switchboard.doctor.loaders.exports import (
    dispatch_rule_from_dict,
    inbound_trunk_from_dict,
    outbound_trunk_from_dict,
)
from switchboard.errors import Problem

PROBE_ROOM_PREFIX = "switchboard-probe-"
SWITCHBOARD_AGENT_ATTRIBUTE = "switchboard.agent"
"""Set by Switchboard's bundled agents (switchboard.agents.attributes.AGENT)."""
PROBE_METADATA = json.dumps({"switchboard": "doctor-probe"})
# Closes the probe room by itself should the final DeleteRoom never reach the server.
_PROBE_EMPTY_TIMEOUT = 30
LATE_AGENT_GRACE = 20.0
"""At most this many seconds the probe waits, before deleting its room, for agents on their way."""
JOB_SETTLE = 2.0
"""A dispatch gets its job within milliseconds; the room lives at least this long."""


async def load_from_server(lkapi: api.LiveKitAPI) -> Inventory:
    """Inbound and outbound trunks, dispatch rules, rooms and their dispatches, from the server.

    The SIP part needs livekit-sip's Redis on the server; when the SIP API is unavailable that is
    recorded as a problem (SB001) and the rooms are still read.
    """
    inventory = Inventory()
    try:
        inbound = await lkapi.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
        outbound = await lkapi.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())
        rules = await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
    except api.TwirpError as error:
        problem = f"the SIP API is unavailable ({error.code}: {error.message})"
        inventory.problems.append(Problem("server: SIP", message=problem))
    else:
        inventory.inbound_trunks = [
            inbound_trunk_from_dict(_as_dict(trunk), f"server: inbound trunk {trunk.sip_trunk_id}")
            for trunk in inbound.items
        ]
        inventory.outbound_trunks = [
            outbound_trunk_from_dict(
                _as_dict(trunk), f"server: outbound trunk {trunk.sip_trunk_id}"
            )
            for trunk in outbound.items
        ]
        inventory.dispatch_rules = [
            dispatch_rule_from_dict(
                _as_dict(rule), f"server: dispatch rule {rule.sip_dispatch_rule_id}"
            )
            for rule in rules.items
        ]
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    for room in rooms.rooms:
        if room.name.startswith(PROBE_ROOM_PREFIX):
            continue
        try:
            dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room.name)
        except api.TwirpError:
            # Closed since it was listed: its ListDispatch is a 503, and it needs no advice.
            if await _still_open(lkapi, room):
                raise
            continue
        try:
            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room.name))
            participants = [_participant(p) for p in listed.participants]
        except api.TwirpError:
            participants = None
        inventory.server_rooms.append(
            ServerRoom(
                name=room.name,
                sid=room.sid,
                empty_timeout=room.empty_timeout,
                departure_timeout=room.departure_timeout,
                num_participants=room.num_participants,
                age_seconds=round(time.time() - room.creation_time, 1)
                if room.creation_time
                else None,
                dispatches=[_dispatch(dispatch) for dispatch in dispatches],
                participants=participants,
                source=f"server: room {room.name}",
            )
        )
    return inventory


_KINDS = {
    api.ParticipantInfo.Kind.STANDARD: "standard",
    api.ParticipantInfo.Kind.AGENT: "agent",
    api.ParticipantInfo.Kind.SIP: "sip",
    api.ParticipantInfo.Kind.INGRESS: "ingress",
    api.ParticipantInfo.Kind.EGRESS: "egress",
}


def _participant(participant: api.ParticipantInfo) -> ServerParticipant:
    return ServerParticipant(
        identity=participant.identity,
        kind=_KINDS.get(participant.kind, "other"),
        agent_name=participant.attributes.get("lk.agent_name", ""),
        switchboard_agent=participant.attributes.get(SWITCHBOARD_AGENT_ATTRIBUTE, ""),
    )


async def _still_open(lkapi: api.LiveKitAPI, room: api.Room) -> bool:
    listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room.name]))
    return any(current.sid == room.sid for current in listed.rooms)


async def probe(
    lkapi: api.LiveKitAPI, *, wait_seconds: float = 5.0, poll_seconds: float = 0.5
) -> ProbeResult:
    """Create a throw-away room with no agent list and report which agents join it.

    The room is named `switchboard-probe-<random>`, carries metadata
    `{"switchboard": "doctor-probe"}` and is always deleted, even on error or cancellation. An agent
    that joins really runs its entrypoint there.
    """
    room = f"{PROBE_ROOM_PREFIX}{secrets.token_hex(4)}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await lkapi.room.create_room(
            api.CreateRoomRequest(
                name=room, metadata=PROBE_METADATA, empty_timeout=_PROBE_EMPTY_TIMEOUT
            )
        )
        agents: list[ProbeAgent] = []
        while True:
            agents = await _agents_in(lkapi, room)
            if agents or loop.time() - started >= wait_seconds:
                break
            await asyncio.sleep(poll_seconds)
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
        return ProbeResult(
            room=room,
            waited_seconds=round(loop.time() - started, 1),
            agents=agents,
            dispatches=[_dispatch(dispatch) for dispatch in dispatches],
            source="probe",
        )
    finally:
        await asyncio.shield(_remove_room(lkapi, room, created_at=started))


async def _remove_room(lkapi: api.LiveKitAPI, room: str, *, created_at: float) -> None:
    """Delete the probe room for good, after any agent on its way has joined.

    Deleting the room under a job that is still starting makes LiveKit restart the job (the
    implicit dispatch restarts failed jobs), and the restarted agent's join creates the room again,
    with a new implicit dispatch: a chain of jobs, each running the entrypoint (seen on the real
    stack). So the probe first lets jobs settle (at least `JOB_SETTLE` seconds after creating the
    room, at most `LATE_AGENT_GRACE`), then deletes the dispatches, then the room.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LATE_AGENT_GRACE
    while loop.time() < deadline:
        if loop.time() >= created_at + JOB_SETTLE and not await _agents_on_their_way(lkapi, room):
            break
        await asyncio.sleep(0.3)
    await _delete_once(lkapi, room)


async def _agents_on_their_way(lkapi: api.LiveKitAPI, room: str) -> bool:
    """True while a job of the room is pending or running but its agent has not joined."""
    try:
        joined = {participant.identity for participant in await _participants(lkapi, room)}
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
    except api.TwirpError:
        return False  # no such room
    return any(
        job.state.status in (api.JobStatus.JS_PENDING, api.JobStatus.JS_RUNNING)
        and job.state.participant_identity not in joined
        for dispatch in dispatches
        for job in dispatch.state.jobs
    )


async def _delete_once(lkapi: api.LiveKitAPI, room: str) -> None:
    """Delete the room's dispatches (so none restarts a job), then the room."""
    try:
        for dispatch in await lkapi.agent_dispatch.list_dispatch(room_name=room):
            await lkapi.agent_dispatch.delete_dispatch(dispatch.id, room)
    except api.TwirpError:
        pass  # the room is gone already, or never came to be; DeleteRoom below says which
    try:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
    except api.TwirpError as error:
        if error.code != api.TwirpErrorCode.NOT_FOUND:
            raise


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


async def _agents_in(lkapi: api.LiveKitAPI, room: str) -> list[ProbeAgent]:
    return [
        ProbeAgent(
            identity=participant.identity,
            agent_name=participant.attributes.get("lk.agent_name", ""),
        )
        for participant in await _participants(lkapi, room)
        if participant.kind == api.ParticipantInfo.Kind.AGENT
    ]


def _dispatch(dispatch: Any) -> ServerDispatch:
    return ServerDispatch(
        dispatch_id=dispatch.id,
        agent_name=dispatch.agent_name,
        room=dispatch.room,
        jobs=len(dispatch.state.jobs),
    )


def _as_dict(message: Any) -> dict[str, Any]:
    result: dict[str, Any] = MessageToDict(message, preserving_proto_field_name=True)
    return result
