"""Outbound agent: calls the number in its job metadata and leaves when a person joins.

After adopting Switchboard (docs/adopt.md): dials with typed SIP errors, and with a
``caller_room`` in the metadata hands the caller waiting there to the human (warm transfer).
"""

import asyncio
import json
import logging
import os

from livekit import api, rtc
from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli
from livekit.agents.voice.room_io import RoomOptions
from speech import speech

from switchboard.handoff import DialError, dial, leave_when_human_joins, warm_transfer

logger = logging.getLogger("outbound-caller")
outbound_trunk_id = os.getenv("SIP_OUTBOUND_TRUNK_ID", "")


async def entrypoint(ctx: JobContext) -> None:
    dial_info = json.loads(ctx.job.metadata)
    await ctx.connect()
    if "caller_room" in dial_info:
        await transfer_to_caller(ctx, dial_info)
        ctx.shutdown(reason="transfer finished")
        return
    participant_identity = "phone_user"
    try:
        await dial(
            ctx.api,
            trunk_id=outbound_trunk_id,
            number=dial_info["phone_number"],
            room_name=ctx.room.name,
            identity=participant_identity,
        )
    except DialError as e:  # CalleeBusy, NoAnswer, LoopDetected (SIP 482)...: each names the fix
        logger.error(f"could not call {dial_info['phone_number']}: {e}")
        ctx.shutdown()
        return
    session: AgentSession[None] = AgentSession(**speech())
    await session.start(Agent(instructions="You call people back."), room=ctx.room)
    session.say(f"Hello, a representative will join you shortly. {dial_info['brief']}")
    # count_present: a representative who joined while we dialed and started counts too
    await leave_when_human_joins(
        ctx, kinds=["standard"], exclude_identities=[participant_identity], count_present=True
    )


async def transfer_to_caller(ctx: JobContext, dial_info: dict[str, str]) -> None:
    """Dial the human into the caller's room, brief them privately, connect them on "1"."""
    human = f"human-{ctx.job.id[-8:]}"
    grants = api.VideoGrants(room_join=True, room=dial_info["caller_room"])
    # switchboard: ignore[SB401]: an agent joining a room that exists needs no room_config
    token = api.AccessToken().with_identity(f"outbound-caller-{ctx.job.id}").with_kind("agent")
    caller_room = rtc.Room()
    await caller_room.connect(os.environ["LIVEKIT_URL"], token.with_grants(grants).to_jwt())
    session: AgentSession[None] = AgentSession(**speech())
    await session.start(
        Agent(instructions="You brief a colleague about a caller."),
        room=caller_room,
        room_options=RoomOptions(participant_identity=human, text_output=False),  # human only
    )

    async def brief(person: rtc.RemoteParticipant) -> bool:
        keys: asyncio.Queue[str] = asyncio.Queue()

        def on_key(dtmf: rtc.SipDTMF) -> None:
            if dtmf.participant is not None and dtmf.participant.identity == person.identity:
                keys.put_nowait(dtmf.digit)

        caller_room.on("sip_dtmf_received", on_key)
        session.say(f"{dial_info['brief']} Press 1 to take the call, 2 to decline.")
        return await keys.get() == "1"

    result = await warm_transfer(
        caller_room,
        ctx.api,
        caller_identity=dial_info["caller_identity"],
        trunk_id=outbound_trunk_id,
        number=dial_info["phone_number"],
        human_identity=human,
        decide=brief,
    )
    if result.error is not None:
        logger.error(f"could not call {dial_info['phone_number']}: {result.error}")
    await session.aclose()
    await caller_room.disconnect()


if __name__ == "__main__":
    cli.run_app(
        WorkerOptions(
            entrypoint_fnc=entrypoint,
            agent_name="outbound-caller",
            load_fnc=lambda worker: len(worker.active_jobs) / 10,  # its calls, not the host's CPU
        )
    )
