"""Time as the store sees it: aware UTC datetimes from an injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from switchboard.store.errors import StoreError

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; tests pass a manual clock."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def require_aware(name: str, value: datetime) -> datetime:
    """``value`` converted to UTC; a naive datetime is refused because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(
            f"{name} is a naive datetime ({value.isoformat()}); the store keeps UTC instants, "
            "so pass an aware one such as datetime.now(UTC)"
        )
    return value.astimezone(UTC)
