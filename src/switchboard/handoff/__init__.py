"""Agent-side call-flow primitives: rooms with one named agent, dialing, leaving for a human."""

from switchboard.handoff.dialing import dial
from switchboard.handoff.errors import (
    CallDeclined,
    CalleeBusy,
    DialError,
    DialFailed,
    DialTimeout,
    Forbidden,
    LoopDetected,
    NoAnswer,
    NotFound,
    RoomSetupError,
    Unavailable,
    dial_error_for_status,
    sip_error_from_twirp,
)
from switchboard.handoff.presence import HumanMatcher, leave_when_human_joins
from switchboard.handoff.rooms import AgentRoom, dispatch_metadata, start_agent_room

__all__ = [
    "AgentRoom",
    "CallDeclined",
    "CalleeBusy",
    "DialError",
    "DialFailed",
    "DialTimeout",
    "Forbidden",
    "HumanMatcher",
    "LoopDetected",
    "NoAnswer",
    "NotFound",
    "RoomSetupError",
    "Unavailable",
    "dial",
    "dial_error_for_status",
    "dispatch_metadata",
    "leave_when_human_joins",
    "sip_error_from_twirp",
    "start_agent_room",
]
