"""A real livekit-agents worker used by the semantics suite.

``PROBE_AGENT_NAME`` selects the agent name ("" = unnamed, automatic dispatch) and
``PROBE_LOAD`` the load the worker reports. The server only offers jobs to workers whose load is
below its ``agents.target_load`` (0.7), and the SDK's default load is the machine's CPU use, so
on a busy 2-core test machine real CPU load would make dispatch flaky. Each job is
appended to ``PROBE_JOB_LOG`` and the agent answers commands sent on the ``probe.cmd`` text
stream: ``shutdown`` calls ``ctx.shutdown()``, ``delete_room`` calls ``ctx.delete_room()``.

Each job process, once initialized (warm), is appended to ``PROBE_PROC_LOG``: livekit-agents
offers a registered worker jobs whether or not it has a warm process, and a job that finds none
waits until one is spawned (18 s on a loaded 2-core machine), so tests wait for one before they
dispatch (``WorkerPool.wait_warm``). ``PROBE_PREWARM_SECONDS`` makes initialization slower and
``PROBE_IDLE_PROCESSES`` sets how many warm processes the worker keeps (1).
``PROBE_PUBLISH_AUDIO=1`` makes each job publish a silent microphone track, as a talking agent
does: livekit-sip keeps an inbound call ringing until it has a track to subscribe to.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess

AGENT_NAME = os.environ.get("PROBE_AGENT_NAME", "")
LABEL = os.environ.get("PROBE_LABEL", AGENT_NAME or "unnamed")
JOB_LOG = os.environ.get("PROBE_JOB_LOG", "")
LOAD = float(os.environ.get("PROBE_LOAD", "0"))
PROC_LOG = os.environ.get("PROBE_PROC_LOG", "")
PREWARM_SECONDS = float(os.environ.get("PROBE_PREWARM_SECONDS", "0"))
IDLE_PROCESSES = int(os.environ.get("PROBE_IDLE_PROCESSES", "1"))
PUBLISH_AUDIO = os.environ.get("PROBE_PUBLISH_AUDIO") == "1"
SAMPLE_RATE = 8000


def _append(path: str, record: dict[str, object]) -> None:
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(record) + "\n")


def _prewarm(_proc: JobProcess) -> None:
    """Runs in each job process before it counts as warm; records that it is ready."""
    started = time.time()
    time.sleep(PREWARM_SECONDS)
    _append(
        PROC_LOG,
        {"label": LABEL, "pid": os.getpid(), "started_at": started, "ready_at": time.time()},
    )


server = AgentServer(
    # One process per job, as in production: an FFI panic in one job (seen under CPU starvation:
    # "timed out waiting for ReadyForRoomEventRequest") must not drain the whole worker.
    job_executor_type=JobExecutorType.PROCESS,
    load_threshold=math.inf,
    num_idle_processes=IDLE_PROCESSES,
    setup_fnc=_prewarm,
    host="127.0.0.1",
    port=0,
    load_fnc=lambda: LOAD,
)


def _log_job(ctx: JobContext) -> None:
    record = {
        "label": LABEL,
        "agent_name": ctx.job.agent_name,
        "room": ctx.job.room.name,
        "job_id": ctx.job.id,
        "metadata": ctx.job.metadata,
        "at": time.time(),
        "pid": os.getpid(),
    }
    _append(JOB_LOG, record)


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    _log_job(ctx)
    await ctx.connect()
    if PUBLISH_AUDIO:
        source = rtc.AudioSource(SAMPLE_RATE, 1)
        track = rtc.LocalAudioTrack.create_audio_track("probe-silence", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await ctx.room.local_participant.publish_track(track, options)
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
