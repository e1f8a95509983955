"""The words of a transfer: how the humans of a target are rung, and how a transfer ended
(``TransferOutcome`` is the shared vocabulary's, re-exported for ``switchboard.handoff`` users)."""

from __future__ import annotations

import enum

from switchboard.vocabulary import TransferOutcome

__all__ = ["RingMode", "TransferOutcome"]


class RingMode(enum.StrEnum):
    """How a target with several humans rings them."""

    SEQUENTIAL = "sequential"
    """One at a time, in the listed order; the next when one fails."""
    SIMULTANEOUS = "simultaneous"
    """All at once; the first to answer is briefed, the others are hung up at once."""
