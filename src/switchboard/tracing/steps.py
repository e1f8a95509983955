"""The steps of a call, as one vocabulary for every view of it.

The same names label the OpenTelemetry spans the service and the agents emit, the bars of the
console's waterfall, the rows of ``switchboard explain``, and the per-step latency histograms.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """One step of a call; its value is the span name."""

    CALL = "call"
    """The root: the caller's room session and every room it leads to."""
    WEBHOOK = "webhook"
    """A webhook received, verified and recorded."""
    DECISION = "decision"
    """The rules decided which agents the event calls for."""
    JOB_QUEUED = "job.queued"
    """A dispatch job waited in the store until a dispatcher claimed it."""
    JOB_CLAIMED = "job.claimed"
    """A dispatcher held the job's lease."""
    CREATE_DISPATCH = "livekit.create_dispatch"
    """The ``CreateDispatch`` call (after the room-existence and ``ListDispatch`` checks)."""
    AGENT_JOINED = "agent.joined"
    """From the dispatch (or the SIP rule's room_config) to the agent in the room."""
    PRESENT = "participant.present"
    """A person (not SIP) in a room, from joined to left."""
    SIP_LEG = "sip.leg"
    """One SIP participant: ringing, answered, hung up, with the SIP status."""
    AGENT_STATE = "agent.state"
    """One state of the qualifier or outbound-caller (asking, dialing, briefing...)."""
    HOLD = "handoff.hold"
    BRIEF = "handoff.brief"
    ACCEPT = "handoff.accept"
    CONNECTED = "handoff.connected"
    AGENTS_GONE = "agents.gone"
    """The last agent left; the people stay. The service emits it when that agent's leave
    webhook is recorded, from the first leave among the agents in the room once the last of
    them had joined (in a warm transfer, the first of the two agents to leave) to that last
    leave. The waterfall's bar instead starts at the last leave and runs until the people go."""
    ROOM_CLOSED = "room.closed"
    """The instant of ``room_finished``."""
