"""The agent the queue test serves callers with: a real livekit-agents worker named ``served``.

Each job joins, plays a 1 kHz tone (the "agent's voice", easy to find at the phone) for
``QUEUE_SERVE_SECONDS`` and at least until the file ``QUEUE_GATE`` exists (the test creates it
once every caller has arrived, so the first three slots cannot free up before the queue is
full, however slowly the calls arrive), appends ``{room, joined_at, left_at}`` to
``QUEUE_JOB_LOG`` and leaves (``ctx.shutdown``): the slot it held frees up. Jobs run in
threads, so ten calls do not need ten job processes on the shared test machine.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time

from livekit import rtc
from livekit.agents import AgentServer, JobContext, JobExecutorType

from switchboard.handoff.hold import SAMPLE_RATE, HoldPattern, pattern_frames

AGENT_NAME = os.environ.get("QUEUE_AGENT_NAME", "served")
SERVE_SECONDS = float(os.environ.get("QUEUE_SERVE_SECONDS", "8"))
JOB_LOG = os.environ.get("QUEUE_JOB_LOG", "")
GATE = os.environ.get("QUEUE_GATE", "")
TONE_HZ = 1000.0

server = AgentServer(
    job_executor_type=JobExecutorType.THREAD,
    load_threshold=math.inf,
    load_fnc=lambda: 0.0,
    host="127.0.0.1",
    port=0,
)


def _wait_for_gate() -> None:
    while GATE and not os.path.exists(GATE):
        time.sleep(0.05)


def _append(record: dict[str, object]) -> None:
    if JOB_LOG:
        with open(JOB_LOG, "a") as out:
            out.write(json.dumps(record) + "\n")


@server.rtc_session(agent_name=AGENT_NAME)
async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    joined_at = time.time()
    source = rtc.AudioSource(SAMPLE_RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("served-voice", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await ctx.room.local_participant.publish_track(track, options)
    frames = pattern_frames(HoldPattern(tones_hz=(TONE_HZ,), tone_ms=1000, gap_ms=0, level=0.3))

    async def speak() -> None:
        while True:
            for frame in frames:
                await source.capture_frame(frame)

    task = asyncio.create_task(speak())
    await asyncio.sleep(SERVE_SECONDS)
    await asyncio.to_thread(_wait_for_gate)
    task.cancel()
    left_at = time.time()
    _append({"room": ctx.job.room.name, "joined_at": joined_at, "left_at": left_at})
    ctx.shutdown(reason="served: done talking")
