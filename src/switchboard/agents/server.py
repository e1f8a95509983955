"""Building a named ``AgentServer`` for one of our agents, and the per-process config it loads."""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess, JobRequest
from livekit.agents.utils import http_context

from switchboard.agents import attributes
from switchboard.agents.config import CONFIG_ENV_VAR, AgentsConfig, load_config
from switchboard.agents.evict import evict_dead_jobs
from switchboard.telemetry import trace_job

logger = logging.getLogger("switchboard.agents")

Entrypoint = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How the worker process runs (not what the agent says: that is the YAML config)."""

    http_host: str = ""
    http_port: int = 0
    executor: Literal["process", "thread"] = "process"
    load_threshold: float | None = None
    num_idle_processes: int | None = None
    ignore_load: bool = False
    """Always report zero load and never refuse jobs (tests, or a machine busy with other
    work): livekit-server also skips workers whose reported load is above its target_load."""


INITIALIZE_PROCESS_SECONDS = 60.0


def build_agent_server(
    agent_name: str, entrypoint: Entrypoint, settings: WorkerSettings
) -> AgentServer:
    """An ``AgentServer`` whose one ``rtc_session`` is named ``agent_name`` (explicit dispatch)."""
    if not agent_name:
        raise ValueError("our agents are always named; an empty name means automatic dispatch")
    options: dict[str, object] = {
        "job_executor_type": JobExecutorType(settings.executor),
        "host": settings.http_host,
        "port": settings.http_port,
        "setup_fnc": load_process_config,
        # livekit-agents gives a job process 10 s to start; on a loaded 2-core machine that
        # is not always enough, and a killed process leaves the job waiting for the next.
        "initialize_process_timeout": INITIALIZE_PROCESS_SECONDS,
    }
    if settings.load_threshold is not None:
        options["load_threshold"] = settings.load_threshold
    if settings.ignore_load:
        options["load_threshold"] = math.inf
        options["load_fnc"] = _no_load
    if settings.num_idle_processes is not None:
        options["num_idle_processes"] = settings.num_idle_processes
    server = AgentServer(**options)  # type: ignore[arg-type]
    server.rtc_session(entrypoint, agent_name=agent_name, on_request=_Acceptor(agent_name))
    evict_dead_jobs(server)
    return server


def _no_load() -> float:
    return 0.0


class _Acceptor:
    """Accepts every job, joining with our attributes already set (visible from the first event)."""

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name

    async def __call__(self, request: JobRequest) -> None:
        await request.accept(
            name=self.agent_name,
            identity=f"{self.agent_name}-{request.id}",
            attributes={attributes.AGENT: self.agent_name, attributes.STATE: "joining"},
        )


def load_process_config(proc: JobProcess) -> None:
    """Job-process setup: load the YAML named by ``SWITCHBOARD_AGENTS_CONFIG`` (or the default),
    and do the one-time work a job would otherwise do on its event loop (``warm_up``)."""
    proc.userdata["config"] = load_config(os.environ.get(CONFIG_ENV_VAR) or None)
    warm_up()


def warm_up() -> None:
    """What every job's first steps would pay for once per process, paid while it idles.

    Measured in the outbound-caller's job before it dials (its event loop blocked): importing
    the offline TTS (switchboard.agents.speech, built with the job's providers) and the TLS
    context of livekit-agents' shared HTTP session (``ctx.api``'s first use parses the whole
    CA bundle: 50-190 ms). Failures are left to the first real use to report.
    """
    with contextlib.suppress(Exception):
        importlib.import_module("switchboard.agents.speech")
    with contextlib.suppress(Exception):
        # Private, but cached per process (functools.cache) for every session built later.
        http_context._create_ssl_context()


@dataclass(frozen=True, slots=True)
class StartedJob:
    """A job in its room: the process's config, the name it runs as, its attribute publisher."""

    config: AgentsConfig
    name: str
    publisher: attributes.AttributePublisher


async def start_job(ctx: JobContext, default_name: str, state: str) -> StartedJob:
    """Join the job's room traced, and publish the agent's name and first ``state``."""
    config = job_config(ctx)
    name = ctx.job.agent_name or default_name  # the name this worker registered under
    publisher = attributes.AttributePublisher(ctx.room, name)
    trace_job(ctx, publisher.spans)
    await ctx.connect()
    # Not waited for: the job's first step (an outbound-caller's dial) need not follow a round
    # trip, and later changes reach the server after this one all the same.
    publisher.publish_soon({attributes.AGENT: name, attributes.STATE: state})
    return StartedJob(config, name, publisher)


def job_config(ctx: JobContext) -> AgentsConfig:
    """The config loaded for this job's process."""
    config = ctx.proc.userdata.get("config")
    if isinstance(config, AgentsConfig):
        return config
    config = load_config(os.environ.get(CONFIG_ENV_VAR) or None)
    ctx.proc.userdata["config"] = config
    return config
