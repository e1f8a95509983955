"""One outbound-caller job being carried out: the state every mode starts from (its job, context
and attribute publisher). Each mode is a subclass; outbound_caller.call_class_for picks one."""

from __future__ import annotations

from abc import ABC, abstractmethod

from livekit.agents import JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.config import AgentsConfig
from switchboard.agents.jobs import OutboundCallJob


class JobCall(ABC):
    """The call an ``OutboundCallJob`` asks for; DirectCall, WarmCall and RepresentativeCall
    each run one mode of it."""

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
        self._prepare()

    @abstractmethod
    def _prepare(self) -> None:
        """Set up the mode's own state (called once the shared state is there)."""

    @abstractmethod
    async def run(self) -> None:
        """Make the call and report it; the job ends when the agent leaves the room."""
