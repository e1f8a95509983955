"""Inbound agent: greets the caller, asks one question, then starts the outbound-caller.

The seed user's qual_agent.py as he had it: unnamed, so LiveKit dispatches it automatically.
"""

import asyncio
import json
import os
import uuid

from livekit import api
from livekit.agents import Agent, AgentSession, JobContext, JobProcess, WorkerOptions, cli
from speech import speech


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
        }
    )

    lkapi = api.LiveKitAPI()
    new_room_name = f"room_{uuid.uuid4().hex[:8]}"
    await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(
            room=new_room_name, agent_name="outbound-caller", metadata=metadata
        )
    )
    await lkapi.aclose()


if __name__ == "__main__":
    cli.run_app(
        WorkerOptions(
            entrypoint_fnc=entrypoint,
            prewarm_fnc=prewarm,
            port=7881,
            shutdown_process_timeout=240.0,
        )
    )
