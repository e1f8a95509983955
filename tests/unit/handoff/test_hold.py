"""The hold pattern: tones at the configured pitch and level, gaps of silence, no clicks."""

from __future__ import annotations

import math

from switchboard.handoff.hold import FRAME_MS, SAMPLE_RATE, HoldPattern, pattern_frames


def _level_at(samples: list[int], hz: float) -> float:
    """Amplitude of ``hz`` in ``samples`` (plain DFT bin), as a fraction of full scale."""
    re = sum(s * math.cos(2 * math.pi * hz * n / SAMPLE_RATE) for n, s in enumerate(samples))
    im = sum(s * math.sin(2 * math.pi * hz * n / SAMPLE_RATE) for n, s in enumerate(samples))
    return 2 * math.hypot(re, im) / len(samples) / 32767


def test_each_tone_plays_for_tone_ms_then_gap_ms_of_silence() -> None:
    pattern = HoldPattern(tones_hz=(440.0, 554.0), tone_ms=400, gap_ms=300, level=0.2)
    samples = pattern.samples()
    tone, gap = SAMPLE_RATE * 400 // 1000, SAMPLE_RATE * 300 // 1000
    assert len(samples) == 2 * (tone + gap)
    first, second = samples[:tone], samples[tone + gap : 2 * tone + gap]
    assert samples[tone : tone + gap] == [0] * gap
    assert _level_at(first, 440) > 0.15 > _level_at(first, 554) * 10
    assert _level_at(second, 554) > 0.15 > _level_at(second, 440) * 10


def test_level_bounds_the_peak_and_tones_fade_in_and_out() -> None:
    samples = HoldPattern(tones_hz=(500.0,), tone_ms=200, gap_ms=0, level=0.1).samples()
    assert max(abs(s) for s in samples) <= round(0.1 * 32767)
    assert abs(samples[0]) < 50 and abs(samples[-1]) < 200  # ramps, no click at the edges


def test_frames_are_20_ms_and_cover_the_whole_pattern() -> None:
    pattern = HoldPattern(tones_hz=(440.0,), tone_ms=130, gap_ms=0)
    frames = pattern_frames(pattern)
    per_frame = SAMPLE_RATE * FRAME_MS // 1000
    assert all(f.samples_per_channel == per_frame and f.sample_rate == SAMPLE_RATE for f in frames)
    assert len(frames) == math.ceil(len(pattern.samples()) / per_frame)
    assert list(frames[0].data) == pattern.samples()[:per_frame]
