"""Reporting a dial that did not reach the human: attributes, a log line, and leaving."""

from __future__ import annotations

import logging

from livekit.agents import JobContext

from switchboard.agents import attributes as attr
from switchboard.handoff import DialError

logger = logging.getLogger("switchboard.agents")


async def report_dial_failure(
    ctx: JobContext, publisher: attr.AttributePublisher, error: DialError
) -> None:
    """Publish why the dial failed (``switchboard.result``, ``.sip_status``, ``.error``), log it
    and leave the room; the room itself is never deleted."""
    await publisher.publish(attr.failure(error.outcome, str(error), error.status_line))
    logger.warning(
        "dial failed",
        extra={"room": ctx.room.name, "outcome": error.outcome, "error": str(error)},
    )
    ctx.shutdown(reason=f"dial failed: {error.outcome}")
