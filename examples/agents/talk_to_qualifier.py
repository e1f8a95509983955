"""Talk to the qualifier from a terminal: type answers, or ``#1`` to press key 1 (DTMF).

Start a worker first (``switchboard agent qualifier --config examples/agents/agents.yaml``),
then::

    python examples/agents/talk_to_qualifier.py [room-name]

It puts the qualifier in a fresh room with ``start_agent_room`` (named dispatch before anyone
joins), joins as the caller, prints what the agents say (``lk.transcription``) and every
``switchboard.*`` attribute change, and sends each line you type on ``lk.chat``.
Uses LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

from livekit import api, rtc

from switchboard.handoff import start_agent_room

DTMF_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


async def main(room_name: str) -> None:
    url = os.environ["LIVEKIT_URL"]
    key, secret = os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"]
    async with api.LiveKitAPI(url, key, secret) as lkapi:
        await start_agent_room(lkapi, room_name, "qualifier", empty_timeout=60)
    token = (
        api.AccessToken(key, secret)
        .with_identity(f"caller-{uuid.uuid4().hex[:4]}")
        .with_grants(api.VideoGrants(room_join=True, room=room_name))
        .to_jwt()
    )
    room = rtc.Room()
    asking = asyncio.Event()
    printing: set[asyncio.Task[None]] = set()

    def on_transcript(reader: rtc.TextStreamReader, sender: str) -> None:
        async def show() -> None:
            print(f"\n{sender}: {await reader.read_all()}")

        task = asyncio.create_task(show())
        printing.add(task)
        task.add_done_callback(printing.discard)

    @room.on("participant_attributes_changed")
    def on_attributes(changed: dict[str, str], participant: rtc.Participant) -> None:
        ours = {k: v for k, v in changed.items() if k.startswith("switchboard.")}
        if participant.attributes.get("switchboard.state") == "asking":
            asking.set()
        if ours:
            print(f"  [{participant.identity}] {ours}")

    room.register_text_stream_handler("lk.transcription", on_transcript)
    await room.connect(url, token)
    print(f"joined {room_name} as {room.local_participant.identity}; waiting for the qualifier")
    # Answers count once the qualifier is asking (its lk.chat handler is attached by then).
    await asyncio.wait_for(asking.wait(), 60)
    print("type answers, #N = key N, empty line to leave")
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line:
            break
        if line.startswith("#") and len(line) == 2 and line[1] in DTMF_CODES:
            await room.local_participant.publish_dtmf(code=DTMF_CODES[line[1]], digit=line[1])
        else:
            await room.local_participant.send_text(line, topic="lk.chat")
    await room.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else f"call-{uuid.uuid4().hex[:6]}"))
