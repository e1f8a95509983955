"""Time windows: weekdays plus a local time range in an IANA timezone, possibly past midnight."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES: Final = {name: index for index, name in enumerate(_DAY_NAMES)} | {
    full: index
    for index, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_CLOCK: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
DAY_SECONDS: Final = 24 * 3600
WEEKDAY_HINT: Final = "use mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri"


class TimeWindowError(ValueError):
    """A timezone, weekday or clock time that cannot be used."""

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})")


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA timezone such as ``Europe/Berlin``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimeWindowError(
            f"unknown timezone '{name}'",
            "use an IANA name such as Europe/Berlin, America/New_York or UTC",
        ) from None


def parse_days(days: str | list[str] | None) -> frozenset[int]:
    """Weekday numbers (Monday is 0) from ``mon-fri``, ``[mon, wed]``, ``sat,sun`` and so on."""
    if days is None:
        return frozenset(range(7))
    items = days.split(",") if isinstance(days, str) else days
    result: set[int] = set()
    for item in items:
        result.update(_parse_day_item(item.strip().lower()))
    if not result:
        raise TimeWindowError("no weekdays given", WEEKDAY_HINT)
    return frozenset(result)


def _parse_day_item(item: str) -> list[int]:
    if "-" in item:
        first, _, last = item.partition("-")
        start, end = _day(first.strip(), item), _day(last.strip(), item)
        return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]
    return [_day(item, item)]


def _day(name: str, item: str) -> int:
    index = _DAY_ALIASES.get(name)
    if index is None:
        raise TimeWindowError(f"unknown weekday '{item}'", WEEKDAY_HINT)
    return index


def parse_clock(text: str, *, allow_24: bool) -> int:
    """Seconds since midnight from ``HH:MM`` or ``HH:MM:SS`` (``24:00`` only as an end)."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise TimeWindowError(
            f"bad time of day '{text}'", "write HH:MM in 24-hour time and quote it, e.g. '09:00'"
        )
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    total = hours * 3600 + minutes * 60 + seconds
    if (
        minutes > 59
        or seconds > 59
        or total > DAY_SECONDS
        or (total == DAY_SECONDS and not allow_24)
    ):
        raise TimeWindowError(
            f"time of day '{text}' is out of range",
            "use 00:00 to 23:59 for 'from' and 00:00 to 24:00 for 'to'",
        )
    return total


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Active on ``days`` from ``start`` to ``end`` (seconds since local midnight).

    When ``end <= start`` the window crosses midnight: it opens on one of ``days`` and closes
    on the next day, so Friday 22:00-06:00 covers Saturday 03:00 but not Friday 03:00.
    """

    zone: ZoneInfo
    days: frozenset[int]
    start: int
    end: int

    def contains(self, now: datetime) -> bool:
        """True when ``now`` (an aware datetime) falls inside the window."""
        try:
            local = now.astimezone(self.zone)
        except (OverflowError, ValueError):  # datetime.min/max shifted out of range
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        weekday = local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= second < self.end
        if second >= self.start:
            return weekday in self.days
        return second < self.end and (weekday - 1) % 7 in self.days

    def local_description(self, now: datetime) -> str:
        """``now`` as the window sees it, e.g. ``Tue 18:03:12 Europe/Berlin``."""
        try:
            local = now.astimezone(self.zone)
        except (OverflowError, ValueError):
            return f"{now.isoformat()} (out of range in {self.zone.key})"
        return f"{_DAY_NAMES[local.weekday()].title()} {local:%H:%M:%S} {self.zone.key}"


def build_time_window(
    timezone: str, days: str | list[str] | None, start: str, end: str
) -> TimeWindow:
    """Validate and build a window; raises ``TimeWindowError``."""
    window = TimeWindow(
        parse_timezone(timezone),
        parse_days(days),
        parse_clock(start, allow_24=False),
        parse_clock(end, allow_24=True),
    )
    if window.start == window.end:
        raise TimeWindowError(
            f"'from' and 'to' are both {start}, so the window is empty",
            "for a whole day write from: '00:00' and to: '24:00'",
        )
    return window
