"""The outbound-caller agent: dials the human a call is handed to, then leaves the room to them.

Dispatched by name only (``outbound_caller.name`` in the config, default ``outbound-caller``) with
an ``OutboundCallJob`` as JSON metadata. It dials with
``CreateSIPParticipant(wait_until_answered=True)`` into its own room, publishes the outcome as
``switchboard.*`` attributes (``switchboard.result`` is ``answered`` or a dial outcome such as
``busy``), and calls ``ctx.shutdown()`` once the human is in: the room is never deleted. With
``handoff: warm`` (the default for transfer targets) it briefs the human first, in private, and
connects the caller only when the human accepts (warm_call.py).
"""

from __future__ import annotations

import asyncio
import logging

from livekit import api, rtc
from livekit.agents import AgentServer, JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.config import DEFAULT_OUTBOUND_CALLER_NAME, AgentsConfig
from switchboard.agents.conversation import spawn
from switchboard.agents.dial_failure import report_dial_failure
from switchboard.agents.job_call import OutboundJobCall
from switchboard.agents.jobs import JobMetadataError, OutboundCallJob
from switchboard.agents.representative_call import RepresentativeCall
from switchboard.agents.server import WorkerSettings, build_agent_server, job_config
from switchboard.agents.warm_call import WarmCall
from switchboard.handoff import DialError, dial, leave_when_human_joins
from switchboard.telemetry import context_from_traceparent, follow, trace_job

logger = logging.getLogger("switchboard.agents")

AGENT_NAME = DEFAULT_OUTBOUND_CALLER_NAME
ANSWERED_GRACE_SECONDS = 5.0
"""After the callee answered, how long to wait for them to count as the human before leaving."""


def build_server(
    settings: WorkerSettings | None = None, agent_name: str = AGENT_NAME
) -> AgentServer:
    """The outbound-caller's worker: one named ``rtc_session``, never auto-dispatched."""
    return build_agent_server(agent_name, entrypoint, settings or WorkerSettings())


async def entrypoint(ctx: JobContext) -> None:
    """Job entrypoint: read the job, dial, report, leave."""
    config = job_config(ctx)
    name = ctx.job.agent_name or AGENT_NAME  # the name this worker registered under
    publisher = attr.AttributePublisher(ctx.room, name)
    trace_job(ctx, publisher.spans)
    await ctx.connect()
    await publisher.publish({attr.AGENT: name, attr.STATE: "starting"})
    try:
        job = OutboundCallJob.parse(ctx.job.metadata)
    except JobMetadataError as exc:
        logger.error("bad job metadata", extra={"room": ctx.room.name, "error": str(exc)})
        await publisher.publish(
            {attr.STATE: "failed", attr.RESULT: "bad_metadata", attr.ERROR: str(exc)}
        )
        ctx.shutdown(reason="bad job metadata")
        return
    carried = context_from_traceparent(job.traceparent)
    if carried is not None:  # a room the call led to: stay in the caller's trace
        follow(carried, publisher.spans)
    if job.mode == "representative":
        await RepresentativeCall(ctx, config, publisher, job).run()
        return
    await OutboundCall(ctx, config, publisher, job).run()


class OutboundCall(OutboundJobCall):
    """Dial one human for one caller."""

    def __init__(
        self,
        ctx: JobContext,
        config: AgentsConfig,
        publisher: attr.AttributePublisher,
        job: OutboundCallJob,
    ) -> None:
        super().__init__(ctx, config, publisher, job)
        self._caller_left = False

    async def run(self) -> None:
        if self._job.handoff == "warm":
            await WarmCall(self._ctx, self._config, self._publisher, self._job).run()
            return
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
        await self._publisher.publish(
            {attr.STATE: "dialing", attr.CALLEE: self._callee, attr.TARGET: self._job.target}
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
            if self._caller_left:
                return  # we hung up ourselves; _hang_up reported it
            await self._failed(exc)
            return
        finally:
            self._ctx.room.off("participant_disconnected", self._on_participant_left)
        if not joined.done():  # else the human is in and the state already says so
            await self._publisher.publish({attr.STATE: "answered", attr.RESULT: "answered"})
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
        await self._publisher.publish({attr.STATE: "failed", attr.RESULT: "caller_left"})
        try:
            await self._ctx.api.room.remove_participant(
                api.RoomParticipantIdentity(room=self._ctx.room.name, identity=self._callee)
            )
        except api.TwirpError as exc:
            logger.warning("could not hang up the callee", extra={"error": str(exc)})
        self._ctx.shutdown(reason="caller left while dialing")

    async def _on_human_joined(self, human: rtc.RemoteParticipant) -> None:
        await self._publisher.publish({attr.STATE: "done", attr.RESULT: "answered"})
        logger.info("human joined", extra={"room": self._ctx.room.name, "human": human.identity})

    async def _failed(self, error: DialError) -> None:
        await report_dial_failure(self._ctx, self._publisher, error)
