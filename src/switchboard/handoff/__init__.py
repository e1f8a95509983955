"""Agent-side call-flow primitives: rooms with one named agent, dialing, warm transfer, leaving
for a human."""

from switchboard.handoff.consultation import Consultation, heard_by_all, only_heard_by
from switchboard.handoff.dialing import dial, hang_up
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
from switchboard.handoff.hold import HoldAudio, HoldPattern
from switchboard.handoff.presence import HumanMatcher, leave_when_human_joins
from switchboard.handoff.rooms import AgentRoom, dispatch_metadata, start_agent_room
from switchboard.handoff.warm import TransferOutcome, WarmTransferResult, warm_transfer

__all__ = [
    "AgentRoom",
    "CallDeclined",
    "CalleeBusy",
    "Consultation",
    "DialError",
    "DialFailed",
    "DialTimeout",
    "Forbidden",
    "HoldAudio",
    "HoldPattern",
    "HumanMatcher",
    "LoopDetected",
    "NoAnswer",
    "NotFound",
    "RoomSetupError",
    "TransferOutcome",
    "Unavailable",
    "WarmTransferResult",
    "dial",
    "dial_error_for_status",
    "dispatch_metadata",
    "hang_up",
    "heard_by_all",
    "leave_when_human_joins",
    "only_heard_by",
    "sip_error_from_twirp",
    "start_agent_room",
    "warm_transfer",
]
