"""The outbound-caller in representative mode: call someone into a new room, talk to them, and
leave the call to a representative who joins from the web.

The qualifier starts this room for a ``room: new`` target (see docs/handoff.md). The agent dials
the job's number into its own room, says the job's lines once the callee answers, and calls
``ctx.shutdown()`` when a participant matching the job's representative rule joins; the room is
never deleted. If no representative comes within ``representative_wait_seconds`` it apologises,
hangs up the callee and leaves, so nobody waits in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from livekit import api, rtc

from switchboard.agents import attributes as attr
from switchboard.agents.conversation import Conversation, Timer, spawn
from switchboard.agents.dial_failure import report_dial_failure
from switchboard.agents.job_call import JobCall
from switchboard.agents.providers import providers_for_job
from switchboard.handoff import DialError, dial, leave_when_human_joins
from switchboard.vocabulary import AttributeKey, OutboundCallerResult, OutboundCallerState, Role

logger = logging.getLogger("switchboard.agents")

CALLEE_ROLE = Role.CUSTOMER
"""``switchboard.role`` of the dialed participant, so it never passes for the representative."""
CALLER_LINE_WAIT_SECONDS = 30.0
"""Calling the caller back: how long to wait for their first call to end before dialing anyway."""


class RepresentativeCall(JobCall):
    """Dial one callee into the agent's room and hold the line until a representative joins."""

    def _prepare(self) -> None:
        self._callee = self._job.human_identity or f"{CALLEE_ROLE}-{self._ctx.job.id[-8:]}"
        self._answered = False
        self._done = False
        self._wait_timer = Timer()
        self._conversation: Conversation | None = None

    async def run(self) -> None:
        """Dial and greet; returns once the callee is waiting (or the dial failed)."""
        self._ctx.add_shutdown_callback(self._on_shutdown)
        await self._publisher.publish(
            {attr.CALLEE: self._callee, attr.TARGET: self._job.target, attr.BRIEF: self._job.brief}
        )
        if self._job.wait_for_caller and self._job.caller_room and self._job.caller_identity:
            await self._publisher.publish({attr.STATE: OutboundCallerState.WAITING_FOR_CALLER_LINE})
            await self._wait_for_caller_to_hang_up()
        await self._publisher.publish({attr.STATE: OutboundCallerState.DIALING})
        self._ctx.room.on("participant_disconnected", self._on_participant_left)
        try:
            await dial(
                self._ctx.api,
                trunk_id=self._job.sip_trunk_id,
                number=self._job.number,
                room_name=self._ctx.room.name,
                identity=self._callee,
                attributes={AttributeKey.ROLE: CALLEE_ROLE},
                ringing_timeout=self._job.ringing_timeout_seconds,
                deadline=self._job.dial_deadline,
            )
        except DialError as exc:
            await self._failed(exc)
            return
        self._answered = True
        await self._publisher.publish(
            {attr.STATE: OutboundCallerState.ANSWERED, attr.RESULT: OutboundCallerResult.ANSWERED}
        )
        callee = await self._remote(self._callee)
        if callee is None or self._done:
            await self._end(OutboundCallerResult.CALLEE_LEFT, "the callee hung up as they answered")
            return
        await self._greet(callee)

    async def _greet(self, callee: rtc.RemoteParticipant) -> None:
        self._conversation = Conversation(
            self._ctx,
            providers_for_job(self._config.speech, self._ctx.room.name),
            on_text=_ignore,
            on_digit=_ignore,
            on_close=self._session_closed,
        )
        await self._conversation.start(callee)
        self._conversation.say(self._job.say)
        await self._publisher.publish({attr.STATE: OutboundCallerState.WAITING_FOR_REPRESENTATIVE})
        rule = self._job.representative
        leave_when_human_joins(
            self._ctx,
            kinds=rule.kinds,
            identity_pattern=rule.identity_pattern,
            attribute=(rule.attribute.name, rule.attribute.value) if rule.attribute else None,
            exclude_identities=[self._callee],
            count_present=True,  # a representative may have joined while the phone rang
            reason="representative joined",
            before_leaving=self._on_representative_joined,
        )
        self._wait_timer.arm(self._job.representative_wait_seconds, self._no_representative)

    async def _wait_for_caller_to_hang_up(self) -> None:
        """Calling the caller back: their phone is busy until the qualifier ended their call."""
        request = api.ListParticipantsRequest(room=self._job.caller_room)
        deadline = time.monotonic() + CALLER_LINE_WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                listed = await self._ctx.api.room.list_participants(request)
            except api.TwirpError:
                return  # the caller's room is gone, and the call with it
            if all(p.identity != self._job.caller_identity for p in listed.participants):
                return
            await asyncio.sleep(0.5)
        logger.warning("caller still on the line; dialing anyway", extra={"room": request.room})

    async def _remote(self, identity: str) -> rtc.RemoteParticipant | None:
        """The answered callee as this room sees it (its join event may trail the API reply)."""
        for _ in range(50):
            participant = self._ctx.room.remote_participants.get(identity)
            if participant is not None:
                return participant
            await asyncio.sleep(0.1)
        return None

    async def _on_representative_joined(self, representative: rtc.RemoteParticipant) -> None:
        self._done = True
        self._wait_timer.cancel()
        await self._publisher.publish(
            {attr.STATE: OutboundCallerState.DONE, attr.REPRESENTATIVE: representative.identity}
        )
        logger.info(
            "representative joined",
            extra={"room": self._ctx.room.name, "representative": representative.identity},
        )

    async def _no_representative(self) -> None:
        if self._done:
            return
        self._done = True
        await self._publisher.publish(
            {
                attr.STATE: OutboundCallerState.ENDED,
                attr.RESULT: OutboundCallerResult.NO_REPRESENTATIVE,
            }
        )
        if self._conversation is not None and self._job.on_no_representative:
            self._conversation.say((self._job.on_no_representative,), interruptible=False)
            with contextlib.suppress(TimeoutError):
                await self._conversation.finish_speaking()
        try:
            await self._ctx.api.room.remove_participant(
                api.RoomParticipantIdentity(room=self._ctx.room.name, identity=self._callee)
            )
        except api.TwirpError as exc:  # the callee may have hung up meanwhile
            logger.info("could not hang up the callee", extra={"error": str(exc)})
        self._ctx.shutdown(reason="no representative joined")

    def _on_participant_left(self, participant: rtc.RemoteParticipant) -> None:
        if self._answered and participant.identity == self._callee:
            spawn(self._end(OutboundCallerResult.CALLEE_LEFT, ""))

    async def _session_closed(self, reason: str) -> None:
        if reason != "job_shutdown":
            await self._end(OutboundCallerResult.CALLEE_LEFT, "")

    async def _end(self, result: OutboundCallerResult, error: str) -> None:
        if self._done:
            return
        self._done = True
        await self._publisher.publish(
            {attr.STATE: OutboundCallerState.ENDED, attr.RESULT: result, attr.ERROR: error}
        )
        self._ctx.shutdown(reason=result)

    async def _on_shutdown(self) -> None:
        self._done = True
        self._wait_timer.cancel()
        self._ctx.room.off("participant_disconnected", self._on_participant_left)

    async def _failed(self, error: DialError) -> None:
        self._done = True
        await report_dial_failure(self._ctx, self._publisher, error)


async def _ignore(_: str) -> None:
    """The callee's words and keys are not acted on: the representative takes the call."""
