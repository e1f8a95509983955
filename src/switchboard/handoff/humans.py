"""A transfer to the first of several humans who accepts: rung in turn or together, one call per
human (a human already on a call is skipped, and the caller holds for one to free up).

A human is on a call when a SIP participant with their number is in any open room of the
project: the server's rooms are the record, so this holds across agents and replicas.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping, Sequence

from livekit import api, rtc

from switchboard.handoff.outcomes import RingMode, TransferOutcome
from switchboard.handoff.warm import (
    Callee,
    CallerLeft,
    Decide,
    WarmTransferResult,
    warm_transfer_first,
)

logger = logging.getLogger("switchboard.handoff")

PHONE_NUMBER = "sip.phoneNumber"
BUSY_POLL_SECONDS = 1.0
"""How often the rooms are read again while every remaining human is on a call."""
ON_A_CALL = "on_a_call"
"""``WarmTransferResult.attempts`` value of a human skipped because they were on a call."""


async def numbers_on_calls(lkapi: api.LiveKitAPI, numbers: Collection[str]) -> set[str]:
    """Which of ``numbers`` a SIP participant in an open room is connected with right now."""
    rooms = (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms
    listings = await asyncio.gather(
        *(lkapi.room.list_participants(api.ListParticipantsRequest(room=r.name)) for r in rooms),
        return_exceptions=True,
    )
    busy: set[str] = set()
    for listing in listings:
        if isinstance(listing, BaseException):
            continue  # the room closed meanwhile
        for participant in listing.participants:
            number = participant.attributes.get(PHONE_NUMBER, "")
            if participant.kind == api.ParticipantInfo.Kind.SIP and number in numbers:
                busy.add(number)
    return busy


async def transfer_to_humans(
    room: rtc.Room,
    lkapi: api.LiveKitAPI,
    *,
    caller_identity: str,
    callees: Sequence[Callee],
    ring: RingMode,
    decide: Decide,
    busy_wait: float = 30,
    display_name: str = "",
    attributes: Mapping[str, str] | None = None,
    decision_timeout: float = 60,
    on_caller_left: CallerLeft | None = None,
) -> WarmTransferResult:
    """Warm-transfer the caller to the first of ``callees`` who accepts.

    SEQUENTIAL rings them one at a time in order, SIMULTANEOUS all at once (the first to answer
    is briefed). A callee already on a call is skipped and tried after the others; once only
    such callees remain, the caller holds up to ``busy_wait`` seconds in all for one to free
    up, else the outcome is ALL_BUSY. Returns the first CONNECTED or CALLER_LEFT result, or the
    last failure, with every callee's outcome in ``attempts``.
    """
    pending = list(callees)
    attempts: dict[str, str] = {}
    last: WarmTransferResult | None = None
    busy_deadline: float | None = None
    while pending:
        if caller_identity not in room.remote_participants:
            last = WarmTransferResult(TransferOutcome.CALLER_LEFT, pending[0].identity)
            break
        on_calls = await numbers_on_calls(lkapi, {c.number for c in pending})
        free = [c for c in pending if c.number not in on_calls]
        for callee in pending:
            if callee.number in on_calls:
                attempts[callee.identity] = ON_A_CALL
        if not free:
            busy_deadline = busy_deadline or time.monotonic() + busy_wait
            if time.monotonic() >= busy_deadline:
                last = WarmTransferResult(TransferOutcome.ALL_BUSY, pending[0].identity)
                break
            await asyncio.sleep(BUSY_POLL_SECONDS)
            continue
        batch = free if ring is RingMode.SIMULTANEOUS else free[:1]
        logger.info(
            "ringing humans",
            extra={"room": room.name, "ring": ring.value, "humans": [c.identity for c in batch]},
        )
        last = await warm_transfer_first(
            room,
            lkapi,
            caller_identity=caller_identity,
            callees=batch,
            decide=decide,
            display_name=display_name,
            attributes=attributes,
            decision_timeout=decision_timeout,
            on_caller_left=on_caller_left,
        )
        attempts.update(last.attempts)
        if last.outcome in (TransferOutcome.CONNECTED, TransferOutcome.CALLER_LEFT):
            break
        pending = [c for c in pending if c not in batch]
    assert last is not None, "callees is empty"
    last.attempts = attempts | last.attempts
    return last
