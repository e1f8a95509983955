"""Percentage rollout: a stable bucket per key, so one caller or room always lands the same way."""

from __future__ import annotations

import hashlib
import json
from typing import Final

BUCKETS: Final = 10_000
"""Buckets per 100 %, so percentages have two decimals of resolution."""


def bucket_of(salt: str, value: object) -> int:
    """The bucket (0..9999) of a key value; the salt keeps rules independent of each other."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    data = salt.encode("utf-8", "surrogatepass") + b"\x00" + text.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8, person=b"switchboard").digest()
    return int.from_bytes(digest, "big") % BUCKETS


def threshold_of(percent: float) -> int:
    """The number of buckets (out of ``BUCKETS``) a percentage selects."""
    return round(percent * BUCKETS / 100)


def in_rollout(salt: str, value: object, percent: float) -> bool:
    """True when the key value falls inside the first ``percent`` of buckets."""
    return bucket_of(salt, value) < threshold_of(percent)
