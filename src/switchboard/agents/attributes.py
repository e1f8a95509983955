"""Participant attributes the agents publish, so clients and tests can follow a call."""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc

from switchboard.telemetry import StateSpans
from switchboard.tracing.steps import Step
from switchboard.vocabulary import AttributeKey, OutboundCallerState

logger = logging.getLogger("switchboard.agents")

# The keys, as this module has always named them (``attr.STATE``); the words live in vocabulary.
AGENT = AttributeKey.AGENT
STATE = AttributeKey.STATE
QUESTION = AttributeKey.QUESTION
ATTEMPT = AttributeKey.ATTEMPT
RESULT = AttributeKey.RESULT
SLOTS = AttributeKey.SLOTS
ANSWERED = AttributeKey.ANSWERED
BRIEF = AttributeKey.BRIEF
TRANSFER = AttributeKey.TRANSFER
SIP_STATUS = AttributeKey.SIP_STATUS
ERROR = AttributeKey.ERROR
CALLEE = AttributeKey.CALLEE
TARGET = AttributeKey.TARGET
TIMINGS = AttributeKey.TIMINGS
ATTEMPTS = AttributeKey.ATTEMPTS
NEW_ROOM = AttributeKey.NEW_ROOM
REPRESENTATIVE = AttributeKey.REPRESENTATIVE


def failure(outcome: str, explanation: str, sip_status: str = "") -> dict[str, str]:
    """What an outbound-caller publishes when its call did not reach (or keep) the human."""
    return {
        STATE: OutboundCallerState.FAILED,
        RESULT: outcome,
        SIP_STATUS: sip_status,
        ERROR: explanation,
    }


class AttributePublisher:
    """Publishes changed attributes on the agent's participant, in order, and logs each change."""

    def __init__(self, room: rtc.Room, agent: str) -> None:
        self._room = room
        self._agent = agent
        self._last_send: asyncio.Task[None] | None = None
        self.current: dict[str, str] = {}
        self.spans = StateSpans(agent)
        """One ``agent.state`` span per published state; the hand-off steps use it too."""

    async def publish(self, changes: dict[str, str]) -> None:
        """Set ``changes`` (merged server-side with what was published before)."""
        await asyncio.shield(self.publish_soon(changes))

    def publish_soon(self, changes: dict[str, str]) -> asyncio.Task[None]:
        """``publish`` without waiting for the server's round trip (e.g. while dialing).

        Changes reach the server in the order of the calls, whichever are awaited; the task is
        done once these are published (or failed to be: that is logged, never raised)."""
        # Plain strings on the wire and in the logs, whether given as enum members or not.
        delta = {str(k): str(v) for k, v in changes.items() if self.current.get(k) != v}
        if delta:
            self.current.update(delta)
            if STATE in delta:
                self.spans.enter(STATE, Step.AGENT_STATE, {STATE: delta[STATE]})
            logger.info(
                "attributes",
                extra={"agent": self._agent, "room": self._room.name, "attributes": delta},
            )
        self._last_send = asyncio.ensure_future(self._send(delta, after=self._last_send))
        return self._last_send

    async def _send(self, delta: dict[str, str], *, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait([after])
        if not delta or not self._room.isconnected():
            return
        try:
            await self._room.local_participant.set_attributes(delta)
        except Exception:
            logger.warning("could not publish attributes", exc_info=True)
