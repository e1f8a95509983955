"""Where a call went wrong, and the fix: failed dials, declined transfers, stranded callers,
unnamed agents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from switchboard.tracing._read import (
    AGENT_KIND,
    Room,
)
from switchboard.tracing.steps import Step
from switchboard.tracing.trace import LaneRole, Mark
from switchboard.vocabulary import AttributeKey, DialOutcome, LiveKitAttribute, TransferOutcome

TRANSFER_FAILURES: Final = frozenset(DialOutcome) | {
    TransferOutcome.NOT_CONFIGURED,
    TransferOutcome.NOT_DISPATCHED,
    TransferOutcome.DECLINED,
    TransferOutcome.NO_DECISION,
    TransferOutcome.CALLER_LEFT,
    TransferOutcome.DIAL_FAILED,
    TransferOutcome.HUMAN_LEFT,
    TransferOutcome.ALL_BUSY,
}
STRANDED_GRACE: Final = timedelta(seconds=5)
"""A caller who hangs up within this long of the last agent leaving was not stranded."""
STRANDED_FIX: Final = (
    "give the qualifier a transfer target that answers (transfer.targets in the agents config), "
    "or end the call when no human can take it (the caller otherwise waits alone until they "
    "hang up); `switchboard doctor` checks the config"
)


def agent_marks(room: Room) -> list[Mark]:
    """Unnamed agents; the outbound-caller's failed dial (at the human's SIP leg when the callee
    joined) or declined transfer; the qualifier's transfer that could not start."""
    marks = []
    for agent in room.people.values():
        if agent.kind != AGENT_KIND:
            continue
        attributes = agent.attributes
        at = agent.left_at or agent.joined_at
        if not attributes.get(LiveKitAttribute.AGENT_NAME):
            marks.append(
                Mark(
                    agent.identity,
                    Step.AGENT_JOINED,
                    agent.joined_at,
                    "an unnamed agent joined (the server's automatic dispatch)",
                    "name every agent (agent_name=...) and dispatch it explicitly; "
                    "`switchboard doctor` finds the cause",
                )
            )
        outcome = attributes.get(AttributeKey.TRANSFER, "")
        result = attributes.get(AttributeKey.RESULT, "")
        if agent.role is LaneRole.OUTBOUND_CALLER and (
            attributes.get(AttributeKey.STATE) == "failed" or outcome in TRANSFER_FAILURES
        ):
            status = attributes.get(AttributeKey.SIP_STATUS, "")
            what = outcome if outcome in TRANSFER_FAILURES else result or "failed"
            problem = f"transfer {what}" + (f" (SIP {status})" if status else "")
            lane, step = agent.identity, Step.AGENT_STATE
            if what in ("declined", "no_decision"):
                step = Step.BRIEF
            elif attributes.get(AttributeKey.CALLEE, "") in room.people:
                lane, step = attributes[AttributeKey.CALLEE], Step.SIP_LEG
            marks.append(Mark(lane, step, at, problem, _fix(attributes, what)))
        elif agent.role is LaneRole.QUALIFIER and outcome in ("not_configured", "not_dispatched"):
            marks.append(
                Mark(
                    agent.identity,
                    Step.AGENT_STATE,
                    at,
                    f"transfer {outcome}",
                    _fix(attributes, outcome),
                )
            )
    return marks


def stranded_marks(room: Room) -> list[Mark]:
    """A caller still in the room after the last agent left, with no human to talk to."""
    agents = [p for p in room.people.values() if p.kind == AGENT_KIND]
    if not agents or not all(a.left_at for a in agents):
        return []
    gone = max(a.left_at for a in agents if a.left_at)
    humans = [
        p
        for p in room.people.values()
        if p.role is LaneRole.HUMAN
        and p.joined_at <= gone
        and (p.left_at is None or p.left_at > gone)
    ]
    marks = []
    for caller in room.people.values():
        if caller.role is not LaneRole.CALLER or humans or caller.joined_at > gone:
            continue
        if caller.left_at is None or caller.left_at > gone + STRANDED_GRACE:
            qualifier = next((a for a in agents if a.role is LaneRole.QUALIFIER), None)
            outcome = qualifier.attributes.get(AttributeKey.TRANSFER, "") if qualifier else ""
            after = f" (the qualifier's transfer: {outcome})" if outcome else ""
            problem = f"stranded caller: every agent left{after} and no human is in the room"
            marks.append(Mark(caller.identity, Step.AGENTS_GONE, gone, problem, STRANDED_FIX))
    return marks


def _fix(attributes: Mapping[str, str], outcome: str) -> str:
    """The fix an agent published in ``switchboard.error``, else the dial outcome's own fix."""
    error = attributes.get(AttributeKey.ERROR, "")
    if "Fix:" in error:
        return error.split("Fix:", 1)[1].split(" (server said:", 1)[0].strip()
    if error:
        return error
    if not outcome:
        return ""
    # Loaded only for a failed dial: the hand-off package loads livekit.rtc.
    from switchboard.handoff.errors import DialError

    for cls in DialError.__subclasses__():
        if cls.outcome == outcome:
            return cls.fix
    if outcome == "not_configured":
        return "add a transfer target to the qualifier's config (transfer.targets)"
    if outcome == "not_dispatched":
        return "run an outbound-caller worker; `switchboard doctor` checks the agents"
    return DialError.fix
