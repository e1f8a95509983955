"""Admission control, pure: which limit a decision falls under, and admit / queue / overflow.

The store counts the callers being served and waiting under a key in one transaction and asks
``Admission.admit`` what to do with the next one; ``switchboard simulate --serving N`` asks the
same question with made-up counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.rules.admission_models import Limit, QueuePolicy
from switchboard.rules.decision import DecisionKind
from switchboard.rules.event import RoomEvent
from switchboard.rules.templates import Template, compile_template


@dataclass(frozen=True, slots=True)
class AdmissionResult:
    """What happens to one caller: served now (``DISPATCH``), ``QUEUED`` at ``position``
    (1-based), or ``OVERFLOW``."""

    kind: DecisionKind
    serving: int
    waiting: int
    position: int = 0

    def to_json(self) -> dict[str, Any]:
        """``{"kind": ..., "serving": ..., "waiting": ..., "position": ...}``."""
        return {
            "kind": str(self.kind),
            "serving": self.serving,
            "waiting": self.waiting,
            "position": self.position,
        }


@dataclass(frozen=True, slots=True)
class Admission:
    """The limit a decision is under: at most ``calls`` rooms served per ``key`` at a time."""

    key: str
    calls: int
    queue: QueuePolicy

    def admit(self, serving: int, waiting: int) -> AdmissionResult:
        """The fate of a new caller when ``serving`` are served and ``waiting`` wait already.

        A caller never jumps the queue: with anyone waiting, a newcomer waits too (the free
        slot belongs to the first in line, being promoted right now).
        """
        if serving < self.calls and waiting == 0:
            return AdmissionResult(DecisionKind.DISPATCH, serving, waiting)
        if waiting < self.queue.max_waiting:
            return AdmissionResult(DecisionKind.QUEUED, serving, waiting, waiting + 1)
        return AdmissionResult(DecisionKind.OVERFLOW, serving, waiting)

    def describe(self) -> str:
        """``limit 3 calls per agent:served (queue 20, hold agent hold, overflow: message)``."""
        queue = self.queue
        return (
            f"limit {self.calls} call{'s' if self.calls > 1 else ''} per {self.key} (queue up to "
            f"{queue.max_waiting} for {queue.max_wait_seconds} s, hold agent {queue.hold_agent}, "
            f"overflow: {queue.overflow.kind})"
        )

    def to_json(self) -> dict[str, Any]:
        """The limit and queue policy as JSON."""
        return {
            "key": self.key,
            "calls": self.calls,
            "queue": self.queue.model_dump(mode="json"),
        }


@dataclass(frozen=True, slots=True)
class CompiledLimit:
    """A ``limit:`` with its ``per`` template compiled, and the queue policy that goes with it."""

    agents: tuple[str, ...]
    calls: int
    per: Template | None
    queue: QueuePolicy

    def render(self, event: RoomEvent) -> Admission:
        """The admission for ``event``; raises ``MissingFieldError`` when ``per`` cannot render."""
        key = admission_key(self.agents, None if self.per is None else self.per.render(event))
        return Admission(key, self.calls, self.queue)


def compile_limit(
    agents: Sequence[str], limit: Limit | None, queue: QueuePolicy | None
) -> CompiledLimit | None:
    """The compiled limit of an action, None when it has none."""
    if limit is None:
        return None
    per = None if limit.per is None else compile_template(limit.per)
    return CompiledLimit(tuple(agents), limit.calls, per, queue or QueuePolicy())


def admission_key(agents: Sequence[str], per: str | None) -> str:
    """The key callers are counted under: the agents' names, then the ``per`` value if any."""
    key = "agent:" + ",".join(agents)
    return key if per is None else f"{key}|{per}"
