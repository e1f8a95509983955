"""Exponential backoff with jitter for dispatch retries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from switchboard.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry n: ``base_seconds * factor**(n-1)``, capped, then scaled by ±jitter.

    The proportional jitter spreads retries of jobs that failed together (a LiveKit outage)
    so they do not return as one burst.
    """

    base_seconds: float = 1.0
    factor: float = 2.0
    max_seconds: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.max_seconds < self.base_seconds:
            raise ConfigError(
                f"backoff needs 0 < base_seconds <= max_seconds, got base_seconds="
                f"{self.base_seconds} and max_seconds={self.max_seconds}"
            )
        if self.factor < 1:
            raise ConfigError(f"backoff factor must be at least 1, got {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ConfigError(f"backoff jitter must be in [0, 1), got {self.jitter}")

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The smallest and largest delay after failed attempt number ``attempt`` (from 1)."""
        exponent = max(attempt, 1) - 1
        try:
            nominal = min(self.base_seconds * self.factor**exponent, self.max_seconds)
        except OverflowError:
            nominal = self.max_seconds
        return nominal * (1 - self.jitter), nominal * (1 + self.jitter)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A random delay within ``bounds(attempt)``."""
        low, high = self.bounds(attempt)
        return (rng or random).uniform(low, high)
