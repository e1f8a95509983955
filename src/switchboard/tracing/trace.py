"""One call as a waterfall: lanes (one per participant), bars (one per step) and marks (where the
call went wrong, with the fix). Plain frozen dataclasses; ``build_trace`` fills them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from switchboard.tracing.steps import Step


class LaneRole(StrEnum):
    """Who a lane is in the call."""

    SWITCHBOARD = "switchboard"
    """The service: webhooks it decided on, jobs it queued."""
    CALLER = "caller"
    QUALIFIER = "qualifier"
    OUTBOUND_CALLER = "outbound-caller"
    HUMAN = "human"
    AGENT = "agent"
    """Any other agent (an unnamed one is a problem of its own)."""
    PERSON = "person"
    """Anyone else: a monitor, a second web participant."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One step on a lane: ``end`` None while it runs; ``rule``/``why`` for decided steps."""

    step: Step
    label: str
    start: datetime
    end: datetime | None
    room: str
    status: str = ""
    """A SIP status, an agent's state, a dispatch outcome."""
    rule: str | None = None
    why: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def duration_ms(self, now: datetime) -> int:
        """Milliseconds from start to end (to ``now`` while running)."""
        return max(0, round(((self.end or now) - self.start).total_seconds() * 1000))


@dataclass(frozen=True, slots=True)
class Mark:
    """Where the call went wrong: at which step of which lane, what happened, and the fix."""

    lane: str
    step: Step
    at: datetime
    problem: str
    fix: str


@dataclass(frozen=True, slots=True)
class Lane:
    """One participant (or the service) and its bars, in start order."""

    key: str
    """The participant identity, or ``switchboard``."""
    role: LaneRole
    title: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class CallTrace:
    """A call: the caller's room and the rooms it led to, as one waterfall."""

    room: str
    rooms: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    """When the last room closed; None while the call runs."""
    lanes: tuple[Lane, ...]
    marks: tuple[Mark, ...]

    @property
    def live(self) -> bool:
        """True while a room of the call is open (or nothing was recorded yet)."""
        return self.end is None

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        """The model as JSON; offsets and durations in ms from the call's start."""
        clock = now or datetime.now(UTC)
        origin = self.start or clock

        def offset(at: datetime) -> int:
            return round((at - origin).total_seconds() * 1000)

        return {
            "room": self.room,
            "rooms": list(self.rooms),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "live": self.live,
            "duration_ms": offset(self.end or clock) if self.start else 0,
            "lanes": [
                {
                    "key": lane.key,
                    "role": lane.role.value,
                    "title": lane.title,
                    "bars": [
                        {
                            "step": bar.step.value,
                            "label": bar.label,
                            "room": bar.room,
                            "start": _iso(bar.start),
                            "end": _iso(bar.end),
                            "offset_ms": offset(bar.start),
                            "duration_ms": bar.duration_ms(clock),
                            "running": bar.end is None,
                            "status": bar.status,
                            "rule": bar.rule,
                            "why": bar.why,
                            "detail": bar.detail,
                        }
                        for bar in lane.bars
                    ],
                }
                for lane in self.lanes
            ],
            "marks": [
                {
                    "lane": mark.lane,
                    "step": mark.step.value,
                    "at": _iso(mark.at),
                    "offset_ms": offset(mark.at),
                    "problem": mark.problem,
                    "fix": mark.fix,
                }
                for mark in self.marks
            ],
        }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat(timespec="milliseconds")
