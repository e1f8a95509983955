"""The hold agent: keeps a queued caller company until an agent takes the call.

Dispatched by the service (never by a rule of yours) to a caller over a rule's limit, with a
``HoldNotice`` as job metadata (switchboard.rules.hold). It plays hold audio (the chime, or
silence), says the caller's place in line on arrival, whenever it changes (data packets on
``switchboard.queue`` from the service) and every ``announce_every_seconds``, and leaves as soon
as another agent joins (the caller's turn came, or the overflow agent). With a
``hang_up_message`` (the queue is full, or the caller waited too long) it says the message, hangs
up the caller and leaves. Speech is espeak-ng, offline.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Final

from livekit import api, rtc
from livekit.agents import AgentServer, JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.server import WorkerSettings, build_agent_server
from switchboard.agents.speech import pcm_from_wav, synthesize_wav
from switchboard.aio import cancel_and_wait
from switchboard.handoff.hold import SAMPLE_RATE, HoldPattern, pattern_frames
from switchboard.rules.admission_models import DEFAULT_HOLD_AGENT, HoldAudio
from switchboard.rules.hold import POSITION_ATTRIBUTE, QUEUE_TOPIC, HoldNotice

logger = logging.getLogger("switchboard.agents")

AGENT_NAME: Final = DEFAULT_HOLD_AGENT
TRACK_NAME: Final = "switchboard-queue"
FRAME_MS: Final = 20
SUBSCRIBED_SECONDS: Final = 5.0
"""How long the first words wait for the caller's side to subscribe to the hold track (a
goodbye said before livekit-sip forwards the track is lost on a loaded server)."""


def build_server(
    settings: WorkerSettings | None = None, agent_name: str = AGENT_NAME
) -> AgentServer:
    """The hold agent's worker: one named ``rtc_session``, dispatched by the service only."""
    return build_agent_server(agent_name, entrypoint, settings or WorkerSettings())


def announcement(position: int) -> str:
    """What a caller at ``position`` hears."""
    place = "You are next in line." if position == 1 else f"You are number {position} in line."
    return f"{place} Please stay on the line, an agent will be with you shortly."


async def entrypoint(ctx: JobContext) -> None:
    """Job entrypoint: hold the caller's line until an agent joins or the caller is let go."""
    notice = HoldNotice.from_json(ctx.job.metadata)
    await ctx.connect()
    line = HoldLine(ctx, notice)
    try:
        reason = await line.run()
    finally:
        await line.close()
    ctx.shutdown(reason=f"hold agent: {reason}")


class HoldLine:
    """One caller's wait: the audio loop, the announcements, and the one way it ends."""

    def __init__(self, ctx: JobContext, notice: HoldNotice) -> None:
        self._ctx = ctx
        self._room = ctx.room
        self._notice = notice
        self._position = notice.position
        self._source = rtc.AudioSource(SAMPLE_RATE, 1)
        self._speech: collections.deque[list[rtc.AudioFrame]] = collections.deque()
        self._spoken = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tasks: list[asyncio.Task[None]] = []

    def _end(self, reason: str) -> None:
        if not self._ended.done():
            self._ended.set_result(reason)

    async def run(self) -> str:
        """Hold until the line ends; returns why (an agent joined, the caller left, hung up)."""
        track = rtc.LocalAudioTrack.create_audio_track(TRACK_NAME, self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self._room.local_participant.publish_track(track, options)
        self._room.on("participant_connected", self._on_joined)
        self._room.on("participant_disconnected", self._on_left)
        self._room.on("data_received", self._on_data)
        self._room.on("local_track_subscribed", lambda _track: self._subscribed.set())
        for participant in list(self._room.remote_participants.values()):
            self._on_joined(participant)
        if not self._ended.done() and not self._callers():
            self._end("the caller left before the hold agent joined")
        self._tasks.append(asyncio.create_task(self._play(), name="hold.play"))
        if self._notice.hang_up_message:
            self._tasks.append(asyncio.create_task(self._hang_up(self._notice.hang_up_message)))
        else:
            self._tasks.append(asyncio.create_task(self._announce_every(), name="hold.announce"))
        return await self._ended

    async def close(self) -> None:
        """Stop the audio and the announcements (idempotent)."""
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        await self._source.aclose()

    def _callers(self) -> list[rtc.RemoteParticipant]:
        return [
            p
            for p in self._room.remote_participants.values()
            if p.kind != rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        ]

    def _on_joined(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            self._speech.clear()
            self._end(f"agent {participant.identity} joined")

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_AGENT and not self._callers():
            self._end("the caller hung up")

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.topic != QUEUE_TOPIC:
            return
        notice = HoldNotice.from_json(packet.data)
        if notice.hang_up_message:
            self._tasks.append(asyncio.create_task(self._hang_up(notice.hang_up_message)))
        elif notice.position and notice.position != self._position:
            self._position = notice.position
            self._tasks.append(asyncio.create_task(self._say_position()))

    async def _announce_every(self) -> None:
        while True:
            await self._say_position()
            await asyncio.sleep(self._notice.announce_every_seconds)

    async def _say_position(self) -> None:
        position = self._position
        if position < 1:
            return
        await self._room.local_participant.set_attributes(
            {attr.AGENT: self._ctx.job.agent_name or AGENT_NAME, POSITION_ATTRIBUTE: str(position)}
        )
        logger.info("hold: announcing", extra={"room": self._room.name, "position": position})
        await self._say(announcement(position))

    async def _hang_up(self, message: str) -> None:
        logger.info("hold: saying goodbye and hanging up", extra={"room": self._room.name})
        await self._say(message)
        await self._spoken.wait()
        await self._source.wait_for_playout()
        for caller in self._callers():
            with contextlib.suppress(api.TwirpError):
                await self._ctx.api.room.remove_participant(
                    api.RoomParticipantIdentity(room=self._room.name, identity=caller.identity)
                )
        self._end("the queue could not take the caller: said goodbye and hung up")

    async def _say(self, text: str) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBED_SECONDS)
        pcm = pcm_from_wav(await synthesize_wav(text))
        resampler = rtc.AudioResampler(pcm.sample_rate, SAMPLE_RATE, num_channels=1)
        frames = [*resampler.push(bytearray(pcm.data)), *resampler.flush()]
        self._spoken.clear()
        self._speech.append(frames)

    async def _play(self) -> None:
        """Speech when there is some, else the hold audio, one 20 ms frame at a time."""
        if self._notice.hold_audio is HoldAudio.CHIME:
            hold = pattern_frames(HoldPattern())
        else:
            samples = SAMPLE_RATE * FRAME_MS // 1000
            hold = [rtc.AudioFrame.create(SAMPLE_RATE, 1, samples)] * 50
        while True:
            if self._speech:
                for frame in self._speech.popleft():
                    await self._source.capture_frame(frame)
                if not self._speech:
                    self._spoken.set()
                continue
            for frame in hold:
                if self._speech:
                    break
                await self._source.capture_frame(frame)
