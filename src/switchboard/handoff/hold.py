"""Hold audio: a soft chime loop published on its own track while the caller waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass

from livekit import rtc
from opentelemetry.trace import Span

from switchboard.aio import cancel_and_wait
from switchboard.telemetry import start_step
from switchboard.tracing.steps import Step

logger = logging.getLogger("switchboard.handoff")

SAMPLE_RATE = 16000
FRAME_MS = 20
HOLD_TRACK_NAME = "switchboard-hold"


@dataclass(frozen=True, slots=True)
class HoldPattern:
    """Tones played one after the other, each ``tone_ms`` then ``gap_ms`` of silence, looped."""

    tones_hz: tuple[float, ...] = (440.0, 554.0)
    tone_ms: int = 400
    gap_ms: int = 300
    level: float = 0.15
    """Peak amplitude, 0..1 of full scale: quiet enough not to startle."""

    def samples(self) -> list[int]:
        """One loop of the pattern as 16-bit mono samples at ``SAMPLE_RATE``."""
        out: list[int] = []
        peak = max(0.0, min(1.0, self.level)) * 32767
        tone_len = SAMPLE_RATE * self.tone_ms // 1000
        fade = min(tone_len // 4, SAMPLE_RATE // 100)  # 10 ms ramps: no clicks
        for hz in self.tones_hz:
            for n in range(tone_len):
                ramp = min(1.0, n / fade, (tone_len - 1 - n) / fade) if fade else 1.0
                out.append(round(peak * ramp * math.sin(2 * math.pi * hz * n / SAMPLE_RATE)))
            out.extend([0] * (SAMPLE_RATE * self.gap_ms // 1000))
        return out


def pattern_frames(pattern: HoldPattern) -> list[rtc.AudioFrame]:
    """The pattern cut into 20 ms frames (the last one zero-padded)."""
    samples = pattern.samples()
    per_frame = SAMPLE_RATE * FRAME_MS // 1000
    samples += [0] * (-len(samples) % per_frame)
    frames = []
    for start in range(0, len(samples), per_frame):
        chunk = samples[start : start + per_frame]
        frame = rtc.AudioFrame.create(SAMPLE_RATE, 1, per_frame)
        data = frame.data
        for i, value in enumerate(chunk):
            data[i] = value
        frames.append(frame)
    return frames


class HoldAudio:
    """Publishes a looping hold track on ``room`` until ``stop()``; safe to stop twice."""

    def __init__(self, room: rtc.Room, pattern: HoldPattern | None = None) -> None:
        self._room = room
        self._pattern = pattern or HoldPattern()
        self._source: rtc.AudioSource | None = None
        self._publication: rtc.LocalTrackPublication | None = None
        self._task: asyncio.Task[None] | None = None
        self._span: Span | None = None

    @property
    def playing(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        if self._task is not None:
            return
        self._source = rtc.AudioSource(SAMPLE_RATE, 1)
        track = rtc.LocalAudioTrack.create_audio_track(HOLD_TRACK_NAME, self._source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        self._publication = await self._room.local_participant.publish_track(track, options)
        self._task = asyncio.create_task(self._loop(self._source), name="switchboard.hold")
        self._span = start_step(Step.HOLD)
        logger.info("hold started", extra={"room": self._room.name})

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait([task])
        span, self._span = self._span, None
        if span is not None:
            span.end()
        publication, self._publication = self._publication, None
        if publication is not None and self._room.isconnected():
            with contextlib.suppress(Exception):
                await self._room.local_participant.unpublish_track(publication.sid)
        if self._source is not None:
            await self._source.aclose()
            self._source = None
        logger.info("hold stopped", extra={"room": self._room.name})

    async def _loop(self, source: rtc.AudioSource) -> None:
        frames = pattern_frames(self._pattern)
        while True:
            for frame in frames:
                await source.capture_frame(frame)  # paced by the source's queue
