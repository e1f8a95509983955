"""A user's own tiny agent worker, as ``switchboard dev --remote --agent`` runs it.

``python user_agent.py JOB_LOG start``: a named worker (``remote-user-agent``) that appends each
job it gets to JOB_LOG. It reads nothing but the ``LIVEKIT_*`` environment, like a user's agent.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

from livekit.agents import AgentServer, JobContext, cli

AGENT_NAME = "remote-user-agent"
JOB_LOG_ENV = "REMOTE_USER_AGENT_JOB_LOG"
"""Set from argv by the worker; its job processes (spawned, argv of their own) inherit it."""

server = AgentServer(load_threshold=math.inf, host="127.0.0.1", port=0, load_fnc=lambda: 0.0)


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    record = {"room": ctx.job.room.name, "metadata": ctx.job.metadata, "at": time.time()}
    with Path(os.environ[JOB_LOG_ENV]).open("a") as fh:  # noqa: ASYNC230 (one short line)
        fh.write(json.dumps(record) + "\n")
    await ctx.connect()


if __name__ == "__main__":
    os.environ[JOB_LOG_ENV] = sys.argv.pop(1)
    cli.run_app(server)
