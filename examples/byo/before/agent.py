"""Outbound agent: calls the number in its job metadata and leaves when a person joins.

The seed user's agent.py as he had it: named, so it joins only rooms it is dispatched to.
"""

import json
import logging
import os

from livekit import api, rtc
from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli
from speech import speech

logger = logging.getLogger("outbound-caller")
outbound_trunk_id = os.getenv("SIP_OUTBOUND_TRUNK_ID", "")


async def entrypoint(ctx: JobContext) -> None:
    dial_info = json.loads(ctx.job.metadata)
    await ctx.connect()
    participant_identity = "phone_user"
    try:
        await ctx.api.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(
                room_name=ctx.room.name,
                sip_trunk_id=outbound_trunk_id,
                sip_call_to=dial_info["phone_number"],
                participant_identity=participant_identity,
                wait_until_answered=True,
            )
        )
    except api.TwirpError as e:
        logger.error(
            f"error creating SIP participant: {e.message}, "
            f"SIP status: {e.metadata.get('sip_status_code')} {e.metadata.get('sip_status')}"
        )
        ctx.shutdown()
        return
    session: AgentSession[None] = AgentSession(**speech())
    await session.start(Agent(instructions="You call people back."), room=ctx.room)
    session.say(f"Hello, a representative will join you shortly. {dial_info['brief']}")

    @ctx.room.on("participant_connected")
    def on_participant_connected(participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD:
            ctx.shutdown(reason="Human participant joined")


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint, agent_name="outbound-caller"))
