"""espeak-ng output parsing and the TTS wrapper (synthesis tests run when the binary exists)."""

from __future__ import annotations

import io
import shutil
import struct
import wave

import pytest

from switchboard.agents.speech import (
    ESPEAK_SAMPLE_RATE,
    EspeakTTS,
    Pcm,
    pcm_frames,
    pcm_from_wav,
    synthesize_wav,
)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def wav_bytes(samples: list[int], rate: int = 16000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


def test_parses_a_regular_wav() -> None:
    pcm = pcm_from_wav(wav_bytes([1, -1, 300, -300], rate=8000))
    assert (pcm.sample_rate, pcm.num_channels) == (8000, 1)
    assert struct.unpack("<4h", pcm.data) == (1, -1, 300, -300)
    assert pcm.duration == pytest.approx(4 / 8000)


def test_tolerates_placeholder_sizes_from_a_pipe() -> None:
    wav = bytearray(wav_bytes([5, 6, 7]))
    struct.pack_into("<I", wav, 4, 0x7FFFF000)  # RIFF size
    struct.pack_into("<I", wav, 40, 0x7FFFF000)  # data size
    pcm = pcm_from_wav(bytes(wav) + b"\x01")  # and a dangling half sample
    assert struct.unpack("<3h", pcm.data) == (5, 6, 7)


def test_skips_unknown_chunks() -> None:
    wav = wav_bytes([9])
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\0"
    pcm = pcm_from_wav(wav[:36] + extra + wav[36:])
    assert struct.unpack("<h", pcm.data) == (9,)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"garbage", "not a RIFF/WAVE file"),
        (b"RIFF\0\0\0\0WAVE", "no data chunk"),
        (b"RIFF\0\0\0\0WAVEdata\x02\0\0\0\0\0", "data chunk before fmt chunk"),
    ],
)
def test_rejects_bad_input(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pcm_from_wav(data)


def test_rejects_non_16_bit() -> None:
    wav = bytearray(wav_bytes([0]))
    struct.pack_into("<H", wav, 34, 8)
    with pytest.raises(ValueError, match="expected 16-bit PCM"):
        pcm_from_wav(bytes(wav))


def test_frames_are_fixed_size_and_zero_padded() -> None:
    pcm = Pcm(struct.pack("<5h", 1, 2, 3, 4, 5), sample_rate=200, num_channels=1)
    frames = pcm_frames(pcm, frame_ms=10)  # 2 samples per frame
    assert [f.samples_per_channel for f in frames] == [2, 2, 2]
    assert list(frames[-1].data) == [5, 0]
    assert frames[0].sample_rate == 200


@needs_espeak
async def test_espeak_synthesizes_16_bit_speech() -> None:
    pcm = pcm_from_wav(await synthesize_wav("Press one for yes."))
    assert pcm.sample_rate == ESPEAK_SAMPLE_RATE
    assert 0.5 < pcm.duration < 5


async def test_synthesis_failures_are_reported() -> None:
    with pytest.raises(RuntimeError, match="false failed: exit status 1"):
        await synthesize_wav("hi", binary="false")
    with pytest.raises(FileNotFoundError):
        await synthesize_wav("hi", binary="/nonexistent/espeak-ng")


async def test_tts_turns_a_missing_binary_into_an_api_error() -> None:
    from livekit.agents import APIConnectionError, APIConnectOptions

    tts = EspeakTTS(binary="/nonexistent/espeak-ng")
    stream = tts.synthesize("hi", conn_options=APIConnectOptions(max_retry=0))
    with pytest.raises(APIConnectionError, match="espeak-ng synthesis failed"):
        await stream.collect()


@needs_espeak
async def test_espeak_tts_yields_audio_frames() -> None:
    tts = EspeakTTS(words_per_minute=200)
    frame = await tts.synthesize("Hello caller.").collect()
    assert frame.sample_rate == ESPEAK_SAMPLE_RATE
    assert frame.num_channels == 1
    assert frame.samples_per_channel > ESPEAK_SAMPLE_RATE // 4
    assert tts.provider == "espeak-ng"
