"""Looking at a call-flow room from outside, through the server API."""

from __future__ import annotations

from livekit import api

from tests.support.participants import eventually

AGENT = api.ParticipantInfo.Kind.AGENT
SIP = api.ParticipantInfo.Kind.SIP


async def participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


def agent_names(people: list[api.ParticipantInfo]) -> list[str]:
    return sorted(p.attributes.get("lk.agent_name", "") for p in people if p.kind == AGENT)


async def caller_room(lkapi: api.LiveKitAPI, caller: str, timeout: float = 60) -> str:
    """The room the seed dispatch rule made for ``caller``'s call (``call_<number>_<id>``)."""
    found: list[str] = []

    async def exists() -> bool:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [r.name for r in rooms.rooms if r.name.startswith(f"call_{caller}_")]
        return bool(found)

    await eventually(exists, timeout=timeout)
    return found[0]


async def room_open(lkapi: api.LiveKitAPI, room: str) -> bool:
    return bool((await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))).rooms)
