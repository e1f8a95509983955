"""The words of a transfer: how the humans of a target are rung, and how a transfer ended."""

from __future__ import annotations

import enum


class RingMode(enum.StrEnum):
    """How a target with several humans rings them."""

    SEQUENTIAL = "sequential"
    """One at a time, in the listed order; the next when one fails."""
    SIMULTANEOUS = "simultaneous"
    """All at once; the first to answer is briefed, the others are hung up at once."""


class TransferOutcome(enum.StrEnum):
    """How a warm transfer ended (``WarmTransferResult.outcome``)."""

    CONNECTED = "connected"
    DECLINED = "declined"
    NO_DECISION = "no_decision"
    """Answered but never accepted: voicemail, or nobody listening."""
    HUMAN_LEFT = "human_left"
    """The human hung up during the brief."""
    CALLER_LEFT = "caller_left"
    DIAL_FAILED = "dial_failed"
    """See ``WarmTransferResult.error`` (busy, no answer, loop detected...)."""
    ALL_BUSY = "all_busy"
    """Every human was already on a call for as long as the caller may wait for one."""
