"""Looking at a call-flow room from outside, through the server API."""

from __future__ import annotations

import asyncio

from livekit import api, rtc

from switchboard.stack.stack import Stack
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


class Monitor:
    """A hidden participant (nobody sees it, it keeps no room open) reading ``lk.transcription``."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.lines: list[tuple[str, str]] = []
        self._tasks: list[asyncio.Task[None]] = []

        def on_stream(reader: rtc.TextStreamReader, identity: str) -> None:
            async def read() -> None:
                self.lines.append((identity, await reader.read_all()))

            self._tasks.append(asyncio.create_task(read()))

        self.room.register_text_stream_handler("lk.transcription", on_stream)

    async def connect(self, stack: Stack, room: str) -> None:
        grants = api.VideoGrants(
            room_join=True, room=room, hidden=True, recorder=True, can_publish=False
        )
        token = (
            api.AccessToken(stack.config.api_key, stack.config.api_secret)
            .with_identity("monitor")
            .with_grants(grants)
            .to_jwt()
        )
        await self.room.connect(stack.config.url, token)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.room.disconnect()
