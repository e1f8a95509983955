"""A real livekit-agents worker used by the semantics suite.

``PROBE_AGENT_NAME`` selects the agent name ("" = unnamed, automatic dispatch) and
``PROBE_LOAD`` the load the worker reports. The server only offers jobs to workers whose load is
below its ``agents.target_load`` (0.7), and the SDK's default load is the machine's CPU use, so
on a busy 2-core test machine real CPU load would make dispatch flaky. Each job is
appended to ``PROBE_JOB_LOG`` and the agent answers commands sent on the ``probe.cmd`` text
stream: ``shutdown`` calls ``ctx.shutdown()``, ``delete_room`` calls ``ctx.delete_room()``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobExecutorType

AGENT_NAME = os.environ.get("PROBE_AGENT_NAME", "")
LABEL = os.environ.get("PROBE_LABEL", AGENT_NAME or "unnamed")
JOB_LOG = os.environ.get("PROBE_JOB_LOG", "")
LOAD = float(os.environ.get("PROBE_LOAD", "0"))

server = AgentServer(
    # One process per job, as in production: an FFI panic in one job (seen under CPU starvation:
    # "timed out waiting for ReadyForRoomEventRequest") must not drain the whole worker.
    job_executor_type=JobExecutorType.PROCESS,
    load_threshold=math.inf,
    num_idle_processes=1,
    host="127.0.0.1",
    port=0,
    load_fnc=lambda: LOAD,
)


def _log_job(ctx: JobContext) -> None:
    if not JOB_LOG:
        return
    record = {
        "label": LABEL,
        "agent_name": ctx.job.agent_name,
        "room": ctx.job.room.name,
        "job_id": ctx.job.id,
        "metadata": ctx.job.metadata,
        "at": time.time(),
    }
    with open(JOB_LOG, "a") as fh:
        fh.write(json.dumps(record) + "\n")


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    _log_job(ctx)
    await ctx.connect()
    done = asyncio.Event()

    async def on_command(reader: rtc.TextStreamReader, _sender: str) -> None:
        command = (await reader.read_all()).strip()
        if command == "shutdown":
            ctx.shutdown(reason="probe: shutdown command")
        elif command == "delete_room":
            await ctx.delete_room()
        done.set()

    ctx.room.register_text_stream_handler(
        "probe.cmd", lambda reader, sender: asyncio.ensure_future(on_command(reader, sender))
    )
    # Set last: a participant seeing this label knows the command handler is in place.
    await ctx.room.local_participant.set_attributes({"probe.label": LABEL})
    await done.wait()
