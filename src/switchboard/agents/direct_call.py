"""The outbound-caller's direct transfer: dial the human into the caller's room and leave as soon
as they answer (``handoff: direct``); the caller and the human then talk without a briefing."""

from __future__ import annotations

import asyncio
import logging

from livekit import api, rtc

from switchboard.agents import attributes as attr
from switchboard.agents.conversation import spawn
from switchboard.agents.dial_failure import report_dial_failure
from switchboard.agents.job_call import JobCall
from switchboard.handoff import DialError, dial, leave_when_human_joins
from switchboard.vocabulary import OutboundCallerResult, OutboundCallerState

logger = logging.getLogger("switchboard.agents")

ANSWERED_GRACE_SECONDS = 5.0
"""After the callee answered, how long to wait for them to count as the human before leaving."""


class DirectCall(JobCall):
    """Dial one human for one caller into the caller's room; connected on answer."""

    def _prepare(self) -> None:
        self._caller_left = False

    async def run(self) -> None:
        """Dial; leave once the human is in (or the dial failed, or the caller left)."""
        human = self._config.transfer.human
        role = (human.attribute.name, human.attribute.value) if human.attribute else None
        joined = leave_when_human_joins(
            self._ctx,
            kinds=human.kinds,
            identity_pattern=human.identity_pattern,
            attribute=role,
            exclude_identities=[i for i in (self._job.caller_identity,) if i],
            reason="human joined",
            before_leaving=self._on_human_joined,
        )
        # Published while the phone rings: the round trip need not delay the INVITE.
        dialing = self._publisher.publish_soon(
            {
                attr.STATE: OutboundCallerState.DIALING,
                attr.CALLEE: self._callee,
                attr.TARGET: self._job.target,
            }
        )
        self._ctx.room.on("participant_disconnected", self._on_participant_left)
        try:
            await dial(
                self._ctx.api,
                trunk_id=self._job.sip_trunk_id,
                number=self._job.number,
                room_name=self._ctx.room.name,
                identity=self._callee,
                name=self._job.display_name,
                attributes=dict([role]) if role else None,
                ringing_timeout=self._job.ringing_timeout_seconds,
                deadline=self._job.dial_deadline,
            )
        except DialError as exc:
            await dialing
            if self._caller_left:
                return  # we hung up ourselves; _hang_up reported it
            await report_dial_failure(self._ctx, self._publisher, exc)
            return
        finally:
            self._ctx.room.off("participant_disconnected", self._on_participant_left)
        await dialing
        if not joined.done():  # else the human is in and the state already says so
            await self._publisher.publish(
                {
                    attr.STATE: OutboundCallerState.ANSWERED,
                    attr.RESULT: OutboundCallerResult.ANSWERED,
                }
            )
        try:
            await asyncio.wait_for(asyncio.shield(joined), ANSWERED_GRACE_SECONDS)
        except TimeoutError:
            # The callee does not meet transfer.human (e.g. a different attribute rule): it
            # answered, so the handover is done all the same.
            self._ctx.shutdown(reason=f"callee answered: {self._callee}")

    def _on_participant_left(self, participant: rtc.RemoteParticipant) -> None:
        if self._job.caller_identity and participant.identity == self._job.caller_identity:
            self._caller_left = True
            spawn(self._hang_up())

    async def _hang_up(self) -> None:
        """The caller left while the human's phone rang: stop ringing it, nobody is waiting."""
        logger.info("caller left while dialing", extra={"room": self._ctx.room.name})
        await self._publisher.publish(
            {attr.STATE: OutboundCallerState.FAILED, attr.RESULT: OutboundCallerResult.CALLER_LEFT}
        )
        try:
            await self._ctx.api.room.remove_participant(
                api.RoomParticipantIdentity(room=self._ctx.room.name, identity=self._callee)
            )
        except api.TwirpError as exc:
            logger.warning("could not hang up the callee", extra={"error": str(exc)})
        self._ctx.shutdown(reason="caller left while dialing")

    async def _on_human_joined(self, human: rtc.RemoteParticipant) -> None:
        await self._publisher.publish(
            {attr.STATE: OutboundCallerState.DONE, attr.RESULT: OutboundCallerResult.ANSWERED}
        )
        logger.info("human joined", extra={"room": self._ctx.room.name, "human": human.identity})
