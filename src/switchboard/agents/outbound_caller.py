"""The outbound-caller agent: dials the human a call is handed to, then leaves the room to them.

Dispatched by name only (``outbound_caller.name`` in the config, default ``outbound-caller``) with
an ``OutboundCallJob`` as JSON metadata. ``call_class_for`` is the one place a job's mode picks
the call that runs it: ``DirectCall`` (direct_call.py) dials the human into the caller's room and
leaves on answer; ``WarmCall`` (warm_call.py, the default for transfer targets) briefs the human
first, in private, and connects the caller only when the human accepts; ``RepresentativeCall``
(representative_call.py) calls someone into a new room and leaves when a representative joins.
Each dials with ``CreateSIPParticipant(wait_until_answered=True)``, publishes the outcome as
``switchboard.*`` attributes (``switchboard.result`` is ``answered`` or a dial outcome such as
``busy``) and calls ``ctx.shutdown()``: the room is never deleted.
"""

from __future__ import annotations

import logging

from livekit.agents import AgentServer, JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.config import DEFAULT_OUTBOUND_CALLER_NAME
from switchboard.agents.direct_call import DirectCall
from switchboard.agents.job_call import JobCall
from switchboard.agents.jobs import JobMetadataError, OutboundCallJob
from switchboard.agents.representative_call import RepresentativeCall
from switchboard.agents.server import WorkerSettings, build_agent_server, start_job
from switchboard.agents.warm_call import WarmCall
from switchboard.telemetry import context_from_traceparent, follow
from switchboard.vocabulary import CallMode, Handoff, OutboundCallerResult, OutboundCallerState

logger = logging.getLogger("switchboard.agents")

AGENT_NAME = DEFAULT_OUTBOUND_CALLER_NAME


def build_server(
    settings: WorkerSettings | None = None, agent_name: str = AGENT_NAME
) -> AgentServer:
    """The outbound-caller's worker: one named ``rtc_session``, never auto-dispatched."""
    return build_agent_server(agent_name, entrypoint, settings or WorkerSettings())


def call_class_for(job: OutboundCallJob) -> type[JobCall]:
    """The call that runs ``job``: by its mode, and in transfer mode by its hand-off."""
    if job.mode is CallMode.REPRESENTATIVE:
        return RepresentativeCall
    return WarmCall if job.handoff is Handoff.WARM else DirectCall


async def entrypoint(ctx: JobContext) -> None:
    """Job entrypoint: read the job, run the call its mode names."""
    started = await start_job(ctx, AGENT_NAME, OutboundCallerState.STARTING)
    publisher = started.publisher
    try:
        job = OutboundCallJob.parse(ctx.job.metadata)
    except JobMetadataError as exc:
        logger.error("bad job metadata", extra={"room": ctx.room.name, "error": str(exc)})
        await publisher.publish(
            {
                attr.STATE: OutboundCallerState.FAILED,
                attr.RESULT: OutboundCallerResult.BAD_METADATA,
                attr.ERROR: str(exc),
            }
        )
        ctx.shutdown(reason="bad job metadata")
        return
    carried = context_from_traceparent(job.traceparent)
    if carried is not None:  # a room the call led to: stay in the caller's trace
        follow(carried, publisher.spans)
    await call_class_for(job)(ctx, started.config, publisher, job).run()
