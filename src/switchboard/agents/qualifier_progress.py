"""How far one qualifier call has got, as one value that only moves forward.

The call's event handlers and timers race (a human joins while the transfer timer fires, the
session closes while the goodbye is said), so each step is taken through ``CallProgress.advance``:
a step that does not follow the current one is refused, and the first way the transfer settles
(transferred, fallback or handed off) is the only one. This is private bookkeeping; what clients
see is the ``QualifierState`` the qualifier publishes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

logger = logging.getLogger("switchboard.agents")


class Progress(StrEnum):
    """One step of a qualifier call."""

    TALKING = "talking"
    """Asking the questions."""
    RESULT_TAKEN = "result_taken"
    """The dialogue gave its result; the qualifier acts on it (once)."""
    TRANSFERRING = "transferring"
    """The outbound-caller was (or is being) started for the target."""
    TRANSFERRED = "transferred"
    """The human joined: the caller is theirs, nothing the qualifier does follows."""
    FALLBACK = "fallback"
    """The transfer failed; the fallback line is said, then the call ends."""
    HANDED_OFF = "handed_off"
    """``room: new``: the outbound-caller calls back from a new room; the caller's call ends."""
    ENDED = "ended"


SETTLED: Final = frozenset({Progress.TRANSFERRED, Progress.FALLBACK, Progress.HANDED_OFF})
"""The ways a transfer ends; a call settles at most once."""

NEXT: Final[Mapping[Progress, frozenset[Progress]]] = {
    Progress.TALKING: frozenset({Progress.RESULT_TAKEN, Progress.ENDED}),
    # A target that cannot be called falls back before any transfer starts.
    Progress.RESULT_TAKEN: frozenset({Progress.TRANSFERRING, Progress.FALLBACK, Progress.ENDED}),
    Progress.TRANSFERRING: SETTLED | {Progress.ENDED},
    # Once the human has joined the qualifier is leaving: no goodbye, no "ended" over it.
    Progress.TRANSFERRED: frozenset(),
    Progress.FALLBACK: frozenset({Progress.ENDED}),
    Progress.HANDED_OFF: frozenset({Progress.ENDED}),
    Progress.ENDED: frozenset(),
}
"""The steps allowed from each step."""


class CallProgress:
    """The one progress value of a qualifier call, moved only by ``advance``."""

    def __init__(self, room: str = "") -> None:
        self._room = room
        self._value = Progress.TALKING

    @property
    def value(self) -> Progress:
        return self._value

    @property
    def over(self) -> bool:
        """Nothing follows: the caller was transferred, or the call ended."""
        return not NEXT[self._value]

    def advance(self, step: Progress) -> bool:
        """Move to ``step`` if it may follow the current step; otherwise stay and return False.

        Refusals are the normal end of a race (a second settle, a timer firing after the end),
        so they are logged at debug only.
        """
        if step in NEXT[self._value]:
            self._value = step
            return True
        logger.debug(
            "qualifier step refused",
            extra={"room": self._room, "progress": self._value.value, "refused": step.value},
        )
        return False
