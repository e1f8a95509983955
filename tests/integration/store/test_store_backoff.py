"""Backoff arithmetic (pure; the queue tests check that the store applies it)."""

from __future__ import annotations

import random

import pytest

from switchboard.errors import ConfigError
from switchboard.store import Backoff


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    backoff = Backoff(base_seconds=1.0, factor=2.0, max_seconds=10.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_jitter_spreads_delays_within_bounds() -> None:
    backoff = Backoff(base_seconds=4.0, factor=2.0, max_seconds=100.0, jitter=0.25)
    assert backoff.bounds(2) == (6.0, 10.0)
    rng = random.Random(7)
    delays = [backoff.delay(2, rng) for _ in range(200)]
    assert all(6.0 <= delay <= 10.0 for delay in delays)
    assert max(delays) - min(delays) > 2.0


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert Backoff(max_seconds=300.0, jitter=0.0).delay(10_000) == 300.0


@pytest.mark.parametrize(
    "arguments",
    [
        {"base_seconds": 0.0},
        {"base_seconds": 10.0, "max_seconds": 5.0},
        {"factor": 0.5},
        {"jitter": 1.0},
    ],
)
def test_nonsense_settings_are_config_errors(arguments: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="backoff"):
        Backoff(**arguments)
