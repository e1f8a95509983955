"""Offline speech out: espeak-ng as a livekit-agents TTS, plus WAV → ``rtc.AudioFrame`` helpers."""

from __future__ import annotations

import asyncio
import shutil
import struct
import uuid
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS

ESPEAK_SAMPLE_RATE = 22050
"""espeak-ng's native rate; every voice it ships speaks at it."""


@dataclass(frozen=True, slots=True)
class Pcm:
    """Signed 16-bit little-endian PCM."""

    data: bytes
    sample_rate: int
    num_channels: int

    @property
    def duration(self) -> float:
        return len(self.data) / (2 * self.num_channels * self.sample_rate)


def pcm_from_wav(wav: bytes) -> Pcm:
    """Parse a 16-bit PCM WAV, tolerating the placeholder sizes espeak-ng writes to a pipe."""
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    position = 12
    sample_rate = num_channels = 0
    while position + 8 <= len(wav):
        chunk_id = wav[position : position + 4]
        (size,) = struct.unpack_from("<I", wav, position + 4)
        body = position + 8
        if chunk_id == b"fmt ":
            audio_format, num_channels, sample_rate = struct.unpack_from("<HHI", wav, body)
            (bits,) = struct.unpack_from("<H", wav, body + 14)
            if audio_format != 1 or bits != 16:
                raise ValueError(f"expected 16-bit PCM, got format {audio_format}/{bits} bits")
        elif chunk_id == b"data":
            if not sample_rate:
                raise ValueError("data chunk before fmt chunk")
            end = min(body + size, len(wav))
            frame_bytes = 2 * num_channels
            end -= (end - body) % frame_bytes
            return Pcm(wav[body:end], sample_rate, num_channels)
        position = body + size + (size & 1)
    raise ValueError("no data chunk")


def pcm_frames(pcm: Pcm, frame_ms: int = 20) -> list[rtc.AudioFrame]:
    """Split ``pcm`` into frames for ``rtc.AudioSource.capture_frame`` (last one zero-padded)."""
    samples_per_frame = pcm.sample_rate * frame_ms // 1000
    frame_bytes = samples_per_frame * pcm.num_channels * 2
    frames = []
    for start in range(0, len(pcm.data), frame_bytes):
        chunk = pcm.data[start : start + frame_bytes].ljust(frame_bytes, b"\0")
        frames.append(rtc.AudioFrame(chunk, pcm.sample_rate, pcm.num_channels, samples_per_frame))
    return frames


def espeak_available(binary: str = "espeak-ng") -> bool:
    return shutil.which(binary) is not None


async def synthesize_wav(
    text: str, *, binary: str = "espeak-ng", voice: str = "en-us", words_per_minute: int = 170
) -> bytes:
    """Run ``espeak-ng --stdout`` with ``text`` on stdin; return the WAV bytes."""
    process = await asyncio.create_subprocess_exec(
        binary,
        "--stdout",
        "--stdin",
        "-v",
        voice,
        "-s",
        str(words_per_minute),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate(text.encode("utf-8"))
    if process.returncode != 0:
        message = stderr.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise RuntimeError(f"{binary} failed: {message}")
    return stdout


class EspeakTTS(tts.TTS[None]):
    """A livekit-agents TTS that speaks through the local espeak-ng binary (no network)."""

    def __init__(
        self, *, binary: str = "espeak-ng", voice: str = "en-us", words_per_minute: int = 170
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=ESPEAK_SAMPLE_RATE,
            num_channels=1,
        )
        self.binary = binary
        self.voice = voice
        self.words_per_minute = words_per_minute

    @property
    def model(self) -> str:
        return f"espeak-ng/{self.voice}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _EspeakStream(tts=self, input_text=text, conn_options=conn_options)


class _EspeakStream(tts.ChunkedStream):
    def __init__(self, *, tts: EspeakTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        try:
            wav = await synthesize_wav(
                self.input_text,
                binary=self._espeak.binary,
                voice=self._espeak.voice,
                words_per_minute=self._espeak.words_per_minute,
            )
            pcm = pcm_from_wav(wav)
        except (OSError, RuntimeError, ValueError) as exc:
            raise APIConnectionError(f"espeak-ng synthesis failed: {exc}") from exc
        output_emitter.initialize(
            request_id=uuid.uuid4().hex,
            sample_rate=pcm.sample_rate,
            num_channels=pcm.num_channels,
            mime_type="audio/pcm",
        )
        output_emitter.push(pcm.data)
        output_emitter.flush()
