"""Inbound agent: greets the caller, asks one question, then starts the outbound-caller.

After adopting Switchboard (docs/adopt.md): named, dispatched only by the SIP dispatch rule.
"""

import asyncio
import json
import os
import uuid

from livekit import api, rtc
from livekit.agents import Agent, AgentSession, JobContext, JobProcess, WorkerOptions, cli
from speech import speech

from switchboard.handoff import HoldAudio, heard_by_all, only_heard_by, start_agent_room


def prewarm(proc: JobProcess) -> None:
    proc.userdata["transfer_to"] = os.environ.get("TRANSFER_TO", "+15558675309")


async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    caller = await ctx.wait_for_participant()
    session: AgentSession[None] = AgentSession(**speech())
    await session.start(
        Agent(instructions="You qualify callers for a solar installer."), room=ctx.room
    )
    keys: asyncio.Queue[str] = asyncio.Queue()
    ctx.room.on("sip_dtmf_received", lambda dtmf: keys.put_nowait(dtmf.digit))
    session.say("Thanks for calling. Do you own your home? Press 1 for yes, 2 for no.")
    if await keys.get() != "1":
        await session.say("Thanks for your time. Goodbye.")
        return
    session.say("Great. Connecting you to a specialist, please hold.")
    number = caller.attributes.get("sip.phoneNumber", caller.identity)
    metadata = json.dumps(
        {
            "phone_number": ctx.proc.userdata["transfer_to"],
            "brief": f"Caller {number} owns a home.",
            "caller_room": ctx.room.name,
            "caller_identity": caller.identity,
        }
    )
    only_heard_by(ctx.room, [caller.identity])  # the human being dialed never hears us
    hold = HoldAudio(ctx.room)
    await hold.start()

    lkapi = api.LiveKitAPI()
    new_room_name = f"room_{uuid.uuid4().hex[:8]}"
    await start_agent_room(lkapi, new_room_name, "outbound-caller", metadata)
    await lkapi.aclose()
    transferred = await human_took_the_call(ctx.room, caller)
    await hold.stop()
    if transferred:
        ctx.shutdown(reason="transferred")  # leaves; the caller and the human stay
        return
    heard_by_all(ctx.room)
    await session.say("Sorry, nobody is free right now. We will call you back. Goodbye.")


async def human_took_the_call(room: rtc.Room, caller: rtc.RemoteParticipant) -> bool:
    """Wait for the outbound-caller to leave this room; the human is then here or never was."""
    left = asyncio.Event()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            left.set()

    room.on("participant_disconnected", on_left)
    await left.wait()
    return any(
        p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP and p != caller
        for p in room.remote_participants.values()
    )


if __name__ == "__main__":
    cli.run_app(
        WorkerOptions(
            entrypoint_fnc=entrypoint,
            prewarm_fnc=prewarm,
            agent_name="qualifier",
            load_fnc=lambda worker: len(worker.active_jobs) / 10,  # its calls, not the host's CPU
            port=7881,
            shutdown_process_timeout=240.0,
        )
    )
