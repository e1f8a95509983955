"""The state every outbound-caller mode starts from: its job, context and attribute publisher."""

from __future__ import annotations

from livekit.agents import JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.config import AgentsConfig
from switchboard.agents.jobs import OutboundCallJob


class OutboundJobCall:
    """One outbound-caller job; subclasses run a mode (direct, warm, representative)."""

    def __init__(
        self,
        ctx: JobContext,
        config: AgentsConfig,
        publisher: attr.AttributePublisher,
        job: OutboundCallJob,
    ) -> None:
        self._ctx = ctx
        self._config = config
        self._publisher = publisher
        self._job = job
        self._callee = job.callee_identity(ctx.job.id)
