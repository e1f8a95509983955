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
from switchboard.handoff.humans import numbers_on_calls, transfer_to_humans
from switchboard.handoff.outcomes import RingMode, TransferOutcome
from switchboard.handoff.presence import HumanMatcher, leave_when_human_joins
from switchboard.handoff.rooms import AgentRoom, dispatch_metadata, start_agent_room
from switchboard.handoff.warm import (
    Callee,
    WarmTransferResult,
    warm_transfer,
    warm_transfer_first,
)

__all__ = [
    "AgentRoom",
    "CallDeclined",
    "Callee",
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
    "RingMode",
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
    "numbers_on_calls",
    "only_heard_by",
    "sip_error_from_twirp",
    "start_agent_room",
    "transfer_to_humans",
    "warm_transfer",
    "warm_transfer_first",
]
