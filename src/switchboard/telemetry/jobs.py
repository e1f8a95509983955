"""An agent job joins its call's trace: the parent of its spans, flushed before the job ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.context import Context

from switchboard.telemetry.context import call_context, context_from_traceparent
from switchboard.telemetry.setup import flush, tracer
from switchboard.telemetry.spans import StateSpans, set_default_context

if TYPE_CHECKING:
    from livekit.agents import JobContext

AGENT_SERVICE_NAME = "switchboard-agents"


def job_call_context(ctx: JobContext, traceparent: str = "") -> Context:
    """The call this job serves: ``traceparent`` when the dispatcher passed one (a room the call
    led to), else the call of the job's own room session."""
    carried = context_from_traceparent(traceparent) if traceparent else None
    if carried is not None:
        return carried
    room = ctx.job.room
    return call_context(room.sid or f"name:{room.name}")


def trace_job(ctx: JobContext, states: StateSpans | None = None) -> Context:
    """Make the job's call the parent of this process's spans; at shutdown end ``states``' open
    spans and export what is buffered."""
    tracer(AGENT_SERVICE_NAME)
    context = job_call_context(ctx)
    follow(context, states)

    async def finish(_reason: str) -> None:
        if states is not None:
            states.close()
        flush()

    ctx.add_shutdown_callback(finish)
    return context


def follow(context: Context, states: StateSpans | None = None) -> None:
    """Parent this job's next spans under ``context`` (e.g. the ``traceparent`` in its job)."""
    set_default_context(context)
    if states is not None:
        states.set_context(context)
