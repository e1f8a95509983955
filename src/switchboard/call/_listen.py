"""Hear the call as text: find the room LiveKit put the call in, and print what agents say.

The room is found by the SIP call: LiveKit gives the caller's participant the attribute
``sip.callIDFull``, the Call-ID of the INVITE our phone sent. A hidden participant (no
publishing, invisible to the agents) then prints the room's ``lk.transcription`` streams.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable

from livekit import api, rtc

from switchboard.livekit import LiveKitClient, join_token

CALL_ID_ATTRIBUTE = "sip.callIDFull"
TRANSCRIPTION_TOPIC = "lk.transcription"


async def find_call_room(client: LiveKitClient, call_id: str) -> str:
    """The room whose SIP participant carries ``call_id``; waits for it (bound it by a timeout)."""
    while True:
        for room in await client.list_rooms():
            response = await client.call(
                "ListParticipants",
                client.api.room.list_participants(api.ListParticipantsRequest(room=room.name)),
            )
            if any(p.attributes.get(CALL_ID_ATTRIBUTE) == call_id for p in response.participants):
                return room.name
        await asyncio.sleep(0.3)


class Listener:
    """A hidden participant in ``room`` that hands each finished transcript to ``say``."""

    def __init__(self, say: Callable[[str, str], None]) -> None:
        self._say = say
        self._room = rtc.Room()
        self._tasks: set[asyncio.Task[None]] = set()

    async def join(self, url: str, api_key: str, api_secret: str, room: str) -> None:
        token = join_token(
            api_key,
            api_secret,
            room=room,
            identity=f"switchboard-call-listener-{secrets.token_hex(3)}",
            grants=api.VideoGrants(
                hidden=True, can_publish=False, can_publish_data=False, can_subscribe=False
            ),
        )
        self._room.register_text_stream_handler(TRANSCRIPTION_TOPIC, self._on_transcript)
        await self._room.connect(url, token)

    def _on_transcript(self, reader: rtc.TextStreamReader, sender: str) -> None:
        participant = self._room.remote_participants.get(sender)
        label = sender
        if participant is not None:
            label = participant.attributes.get("lk.agent_name") or participant.name or sender

        async def read() -> None:
            text = (await reader.read_all()).strip()
            if text:
                self._say(label, text)

        task = asyncio.create_task(read())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def leave(self) -> None:
        await self._room.disconnect()
