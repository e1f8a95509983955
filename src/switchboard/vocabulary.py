"""The words Switchboard's packages share, as types: participant kinds, roles, dial and transfer
outcomes, the agents' states and the attribute keys they publish.

Only the standard library is imported here, so rules, the service, the console, the tracing and
the agents all use these names without loading LiveKit's SDKs. docs/agents.md lists the states
and values; tests/unit/test_vocabulary.py keeps that page and these enums equal.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ParticipantKind(StrEnum):
    """A participant's kind: the lowercase name configs use; ``webhook_name`` and ``number`` are
    the spellings of livekit-server's webhooks (``"kind": "SIP"``) and of its protocol."""

    STANDARD = "standard"
    INGRESS = "ingress"
    EGRESS = "egress"
    SIP = "sip"
    AGENT = "agent"
    CONNECTOR = "connector"
    BRIDGE = "bridge"

    @property
    def webhook_name(self) -> str:
        """``STANDARD``, ``SIP``...: the enum name livekit-server writes in webhooks."""
        return self.value.upper()

    @property
    def number(self) -> int:
        """The server's number (``livekit.ParticipantInfo.Kind``, in webhooks and API replies);
        the rtc SDK's ``ParticipantKind`` numbers connector and bridge differently."""
        return _KIND_NUMBERS[self]

    @classmethod
    def from_number(cls, number: int) -> ParticipantKind | None:
        """The kind with protocol value ``number``; None for a kind this version does not know."""
        return _KINDS_BY_NUMBER.get(number)


_KIND_NUMBERS: Final = {
    ParticipantKind.STANDARD: 0,
    ParticipantKind.INGRESS: 1,
    ParticipantKind.EGRESS: 2,
    ParticipantKind.SIP: 3,
    ParticipantKind.AGENT: 4,
    ParticipantKind.CONNECTOR: 7,
    ParticipantKind.BRIDGE: 8,
}
_KINDS_BY_NUMBER: Final = {number: kind for kind, number in _KIND_NUMBERS.items()}

HUMAN_KINDS: Final = (ParticipantKind.STANDARD, ParticipantKind.SIP)
"""The kinds a person joins as: from a browser or app, or on the phone."""


class Role(StrEnum):
    """``switchboard.role``: who a person is in a call."""

    REPRESENTATIVE = "representative"
    """A person who takes the call: the softphone's "I am the human representative" box sets it,
    and the ``room: new`` flow waits for it."""
    HUMAN_AGENT = "human-agent"
    """The older spelling of REPRESENTATIVE (``transfer.human``'s default attribute value); a
    matcher expecting either one accepts both, so configs that carry it keep working."""
    CUSTOMER = "customer"
    """The person the outbound-caller calls back in a ``room: new`` call."""

    @classmethod
    def canonical(cls, value: str) -> str:
        """``value`` with the older spelling of a role replaced by the current one."""
        return cls.REPRESENTATIVE if value == cls.HUMAN_AGENT else value


class DialOutcome(StrEnum):
    """Why a dial did not reach the human (``DialError.outcome``, ``switchboard.result``)."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    TIMEOUT = "timeout"
    LOOP_DETECTED = "loop_detected"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"
    """Any other failure; ``switchboard.error`` says which."""


class TransferOutcome(StrEnum):
    """How a hand-off ended (``switchboard.transfer``); a failed dial reports its DialOutcome."""

    CONNECTED = "connected"
    DECLINED = "declined"
    NO_DECISION = "no_decision"
    """Answered but never accepted: voicemail, or nobody listening."""
    CALLER_LEFT = "caller_left"
    DIAL_FAILED = "dial_failed"
    """The dial failed; the attribute then carries the DialOutcome (busy, no_answer...)."""
    HUMAN_LEFT = "human_left"
    """The human hung up during the brief."""
    ALL_BUSY = "all_busy"
    """Every human was already on a call for as long as the caller may wait for one."""
    NOT_CONFIGURED = "not_configured"
    NOT_DISPATCHED = "not_dispatched"
    """No outbound-caller joined within ``timeouts.dispatch_seconds``."""
    NEW_ROOM = "new_room"
    """A ``room: new`` target: the outbound-caller took the call to a new room."""


class TransferProgress(StrEnum):
    """``switchboard.transfer`` while a hand-off is under way."""

    DISPATCHED = "dispatched"
    DIALING = "dialing"
    BRIEFING = "briefing"
    ACCEPTED = "accepted"


class QualifierState(StrEnum):
    """The qualifier's ``switchboard.state``."""

    JOINING = "joining"
    WAITING = "waiting"
    """For the caller."""
    ASKING = "asking"
    QUALIFIED = "qualified"
    FINISHED = "finished"
    """Not qualified, or gave up: ``switchboard.result`` says which."""
    TRANSFERRING = "transferring"
    TRANSFERRED = "transferred"
    HANDED_OFF = "handed_off"
    """A ``room: new`` target: the outbound-caller was started in ``switchboard.new_room``."""
    FALLBACK = "fallback"
    """The transfer failed; the caller hears the fallback message."""
    ENDED = "ended"


class OutboundCallerState(StrEnum):
    """The outbound-caller's ``switchboard.state``."""

    JOINING = "joining"
    STARTING = "starting"
    WAITING_FOR_CALLER_LINE = "waiting_for_caller_line"
    """Calling the caller back: their first call has not ended yet."""
    DIALING = "dialing"
    ANSWERED = "answered"
    BRIEFING = "briefing"
    """Warm transfer: the human hears the brief, in private."""
    WAITING_FOR_REPRESENTATIVE = "waiting_for_representative"
    DONE = "done"
    FAILED = "failed"
    """``switchboard.result`` says why: a DialOutcome, ``caller_left`` or ``bad_metadata``."""
    ENDED = "ended"
    """Representative mode: ``no_representative`` or ``callee_left``."""


class OutboundCallerResult(StrEnum):
    """The outbound-caller's ``switchboard.result`` besides a DialOutcome."""

    ANSWERED = "answered"
    NO_DECISION = "no_decision"
    CALLER_LEFT = "caller_left"
    CALLEE_LEFT = "callee_left"
    NO_REPRESENTATIVE = "no_representative"
    BAD_METADATA = "bad_metadata"


class CallMode(StrEnum):
    """What an outbound-caller job does (``OutboundCallJob.mode``)."""

    TRANSFER = "transfer"
    """Dial the human into the caller's room."""
    REPRESENTATIVE = "representative"
    """Dial into the agent's own (new) room, and leave when a representative joins."""


class Handoff(StrEnum):
    """How a transfer connects the caller (``handoff`` of a target and of a job)."""

    WARM = "warm"
    """Brief the human in private; connect when they accept."""
    DIRECT = "direct"
    """Connect as soon as the human answers."""


class TargetRoom(StrEnum):
    """Where a transfer target's human is dialed (``room`` of a target)."""

    CALLER = "caller"
    """Into the caller's own room."""
    NEW = "new"
    """Into a new room: the outbound-caller calls the callee there and the caller's call ends."""


class AttributeKey(StrEnum):
    """The participant attributes Switchboard's agents publish or read."""

    AGENT = "switchboard.agent"
    """The name the agent registered under (``qualifier``, ``outbound-caller``)."""
    STATE = "switchboard.state"
    """QualifierState or OutboundCallerState."""
    QUESTION = "switchboard.question"
    """Id of the question being asked (qualifier), empty when none."""
    ATTEMPT = "switchboard.attempt"
    """1-based attempt at the current question or at the accept prompt."""
    RESULT = "switchboard.result"
    """Qualifier: qualified | not_qualified | gave_up; outbound-caller: OutboundCallerResult or a
    DialOutcome."""
    SLOTS = "switchboard.slots"
    """JSON object of the answers collected so far."""
    ANSWERED = "switchboard.answered"
    """Qualifier, on the caller's participant: JSON of the answers so far, so a qualifier
    dispatched again after a crash resumes instead of starting over."""
    BRIEF = "switchboard.brief"
    """The one-paragraph summary for the human."""
    TRANSFER = "switchboard.transfer"
    """TransferProgress, then a TransferOutcome or a DialOutcome."""
    SIP_STATUS = "switchboard.sip_status"
    """Final SIP status of a failed dial, e.g. ``486 Busy Here``."""
    ERROR = "switchboard.error"
    """One-line explanation and fix of the last failure."""
    CALLEE = "switchboard.callee"
    """Outbound-caller: identity of the dialed participant."""
    TARGET = "switchboard.target"
    """Name of the transfer target in the config."""
    TIMINGS = "switchboard.timings"
    """Outbound-caller, warm transfer: JSON of ms after dialing for answered, decided, connected."""
    ATTEMPTS = "switchboard.attempts"
    """Outbound-caller, warm transfer: JSON of how each human dialed ended, by identity."""
    NEW_ROOM = "switchboard.new_room"
    """Qualifier, ``room: new`` targets: the room the outbound-caller was started in."""
    REPRESENTATIVE = "switchboard.representative"
    """Outbound-caller in representative mode: identity of the representative who took over."""
    ROLE = "switchboard.role"
    """A person's Role, set on their token or when they are dialed."""


class LiveKitAttribute(StrEnum):
    """Attributes LiveKit itself sets, which Switchboard reads."""

    AGENT_NAME = "lk.agent_name"
    AGENT_STATE = "lk.agent.state"
    SIP_CALL_STATUS = "sip.callStatus"
    SIP_PHONE_NUMBER = "sip.phoneNumber"


class SipCallStatus(StrEnum):
    """Values of ``sip.callStatus``: a SIP participant joins while its phone still rings."""

    DIALING = "dialing"
    RINGING = "ringing"
    AUTOMATION = "automation"
    ACTIVE = "active"
    """The callee answered."""
    HANGUP = "hangup"
