"""A real livekit-agents worker whose agent calls ``leave_when_human_joins`` and nothing else.

The job metadata is JSON with the keyword arguments (``kinds``, ``identity_pattern``,
``attribute``, ``exclude_identities``, ``count_present``). The agent sets ``presence.seen`` to
the identities it has seen connect, and ``presence.ready`` once the watch is in place;
``before_leaving`` appends the matched human to ``PRESENCE_EVENT_LOG``, so a test can tell
which participant sent it away.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobExecutorType

from switchboard.handoff import leave_when_human_joins

AGENT_NAME = os.environ["PRESENCE_AGENT_NAME"]
EVENT_LOG = os.environ["PRESENCE_EVENT_LOG"]

server = AgentServer(
    job_executor_type=JobExecutorType.PROCESS,
    load_threshold=math.inf,
    num_idle_processes=1,
    host="127.0.0.1",
    port=0,
    # The server offers no job to a worker above its target load; CPU use must not decide that.
    load_fnc=lambda: 0.0,
)


def _append(path: str, event: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(event) + "\n")


def _options(metadata: str) -> dict[str, Any]:
    options: dict[str, Any] = json.loads(metadata) if metadata else {}
    if options.get("attribute") is not None:
        options["attribute"] = tuple(options["attribute"])
    return options


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    room = ctx.room
    seen: list[str] = []
    updates: set[asyncio.Task[None]] = set()  # the loop only keeps weak references to tasks

    async def record_leaving(human: rtc.RemoteParticipant) -> None:
        _append(EVENT_LOG, {"room": room.name, "human": human.identity, "at": time.time()})

    publishing = asyncio.Lock()

    async def publish_seen() -> None:
        # One update at a time, each with everyone seen so far: two concurrent updates (two
        # people joining together) can land out of order, and the older list would win.
        async with publishing:
            await room.local_participant.set_attributes({"presence.seen": ",".join(sorted(seen))})

    def on_connected(participant: rtc.RemoteParticipant) -> None:
        seen.append(participant.identity)
        task = asyncio.ensure_future(publish_seen())
        updates.add(task)
        task.add_done_callback(updates.discard)

    room.on("participant_connected", on_connected)
    seen.extend(room.remote_participants)
    leave_when_human_joins(ctx, before_leaving=record_leaving, **_options(ctx.job.metadata))
    async with publishing:
        await room.local_participant.set_attributes(
            {"presence.ready": "1", "presence.seen": ",".join(sorted(seen))}
        )
    # Return: the job lives on until ctx.shutdown(). An entrypoint still awaiting something
    # would keep the agent in the room until livekit-agents gives up on it and cancels it.
