"""Participant attributes the agents publish, so clients and tests can follow a call."""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc

from switchboard.telemetry import StateSpans
from switchboard.tracing.steps import Step

logger = logging.getLogger("switchboard.agents")

AGENT = "switchboard.agent"
"""``qualifier`` or ``outbound-caller``."""
STATE = "switchboard.state"
"""Where the agent is in its flow; values per agent in docs/agents.md."""
QUESTION = "switchboard.question"
"""Id of the question being asked (qualifier), empty when none."""
ATTEMPT = "switchboard.attempt"
"""1-based attempt at the current question or at the accept prompt."""
RESULT = "switchboard.result"
"""Qualifier: qualified | not_qualified | gave_up. Outbound-caller: answered or a dial outcome."""
SLOTS = "switchboard.slots"
"""JSON object of the answers collected so far."""
BRIEF = "switchboard.brief"
"""The one-paragraph summary for the human."""
TRANSFER = "switchboard.transfer"
"""Qualifier: dispatched | connected | not_configured | a dial outcome (busy, no_answer...)."""
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
NEW_ROOM = "switchboard.new_room"
"""Qualifier, ``room: new`` targets: the room the outbound-caller was started in."""
REPRESENTATIVE = "switchboard.representative"
"""Outbound-caller in representative mode: identity of the representative who took over."""


def failure(outcome: str, explanation: str, sip_status: str = "") -> dict[str, str]:
    """What an outbound-caller publishes when its call did not reach (or keep) the human."""
    return {STATE: "failed", RESULT: outcome, SIP_STATUS: sip_status, ERROR: explanation}


class AttributePublisher:
    """Publishes changed attributes on the agent's participant, in order, and logs each change."""

    def __init__(self, room: rtc.Room, agent: str) -> None:
        self._room = room
        self._agent = agent
        self._lock = asyncio.Lock()
        self.current: dict[str, str] = {}
        self.spans = StateSpans(agent)
        """One ``agent.state`` span per published state; the hand-off steps use it too."""

    async def publish(self, changes: dict[str, str]) -> None:
        """Set ``changes`` (merged server-side with what was published before)."""
        async with self._lock:
            delta = {k: v for k, v in changes.items() if self.current.get(k) != v}
            if not delta:
                return
            self.current.update(delta)
            if STATE in delta:
                self.spans.enter(STATE, Step.AGENT_STATE, {STATE: delta[STATE]})
            logger.info(
                "attributes",
                extra={"agent": self._agent, "room": self._room.name, "attributes": delta},
            )
            if not self._room.isconnected():
                return
            try:
                await self._room.local_participant.set_attributes(delta)
            except Exception:
                logger.warning("could not publish attributes", exc_info=True)
