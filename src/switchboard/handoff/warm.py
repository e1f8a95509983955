"""Warm transfer on any LiveKit server: dial the human into the caller's room, brief them in
private, connect on acceptance. No ``MoveParticipant`` (LiveKit Cloud only) is needed.

The consulting agent calls ``warm_transfer``. Whoever keeps the caller company meanwhile (the
same agent or another one) plays hold audio to the caller only (``HoldAudio`` +
``only_heard_by``); see docs/handoff.md for the whole sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from livekit import api, rtc

from switchboard.handoff.consultation import Consultation, heard_by_all, only_heard_by
from switchboard.handoff.dialing import dial, hang_up
from switchboard.handoff.errors import DialError

logger = logging.getLogger("switchboard.handoff")

Decide = Callable[[rtc.RemoteParticipant], Awaitable[bool | None]]
"""Briefs the human; True = accepted, False = declined, None = no decision (e.g. voicemail)."""


class TransferOutcome(enum.StrEnum):
    CONNECTED = "connected"
    DECLINED = "declined"
    NO_DECISION = "no_decision"
    """Answered but never accepted: voicemail, or nobody listening."""
    CALLER_LEFT = "caller_left"
    DIAL_FAILED = "dial_failed"
    """See ``WarmTransferResult.error`` (busy, no answer, loop detected...)."""


@dataclass(slots=True)
class WarmTransferResult:
    outcome: TransferOutcome
    human_identity: str
    error: DialError | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """``time.monotonic()`` of each step reached: dialing, answered, decided, connected."""

    @property
    def reason(self) -> str:
        """The outcome name callers and fallbacks use: a dial outcome when dialing failed."""
        return self.error.outcome if self.error is not None else self.outcome.value


async def warm_transfer(
    room: rtc.Room,
    lkapi: api.LiveKitAPI,
    *,
    caller_identity: str,
    trunk_id: str,
    number: str,
    human_identity: str,
    decide: Decide,
    human_name: str = "",
    display_name: str = "",
    attributes: Mapping[str, str] | None = None,
    ringing_timeout: float = 30,
    dial_deadline: float | None = None,
    decision_timeout: float = 60,
) -> WarmTransferResult:
    """Dial the human into ``room``, let ``decide`` brief them privately, connect or hang up.

    The calling agent's own tracks are restricted to the human from here on. On CONNECTED the
    caller and human hear each other; the agent should then leave (``ctx.shutdown``). On any
    other outcome the human has been hung up and the agent's tracks are audible to all again.
    """
    result = WarmTransferResult(TransferOutcome.DIAL_FAILED, human_identity)
    result.timings["dialing"] = time.monotonic()
    only_heard_by(room, [human_identity])
    consultation = Consultation(lkapi, room, caller=caller_identity, human=human_identity)
    consultation.start()
    caller_left = asyncio.Event()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == caller_identity:
            caller_left.set()

    room.on("participant_disconnected", on_left)
    try:
        steps = asyncio.ensure_future(
            _dial_and_decide(
                room, result, consultation, decide, decision_timeout,
                functools.partial(
                    dial, lkapi, trunk_id=trunk_id, number=number, room_name=room.name,
                    identity=human_identity, name=human_name, display_name=display_name,
                    attributes=attributes, ringing_timeout=ringing_timeout,
                    deadline=dial_deadline,
                ),
            )
        )  # fmt: skip
        left = asyncio.ensure_future(caller_left.wait())
        done, _ = await asyncio.wait({steps, left}, return_when=asyncio.FIRST_COMPLETED)
        if steps not in done:
            steps.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await steps
            result.outcome = TransferOutcome.CALLER_LEFT
        left.cancel()
        if steps in done:
            steps.result()  # re-raise anything unexpected
    finally:
        room.off("participant_disconnected", on_left)
        consultation.close()
    if result.outcome is not TransferOutcome.CONNECTED:
        if result.error is None:  # the human's phone may be ringing or answered: end it
            await hang_up(lkapi, room.name, human_identity)
        heard_by_all(room)
    logger.info(
        "warm transfer finished",
        extra={"room": room.name, "outcome": result.reason, "human": human_identity},
    )
    return result


async def _dial_and_decide(
    room: rtc.Room,
    result: WarmTransferResult,
    consultation: Consultation,
    decide: Decide,
    decision_timeout: float,
    place_call: Callable[[], Awaitable[api.SIPParticipantInfo]],
) -> None:
    try:
        await place_call()
    except DialError as exc:
        result.error = exc
        return
    result.timings["answered"] = time.monotonic()
    # The human's livekit-sip subscribes to the caller now, the caller's to the human's track
    # once its media flows: keep both apart while the brief starts.
    await _isolate_after_answer(consultation)
    human = await asyncio.wait_for(_participant(room, result.human_identity), 10)
    try:
        accepted = await asyncio.wait_for(decide(human), decision_timeout)
    except TimeoutError:
        accepted = None
    result.timings["decided"] = time.monotonic()
    if accepted is None:
        result.outcome = TransferOutcome.NO_DECISION
        return
    if not accepted:
        result.outcome = TransferOutcome.DECLINED
        return
    await consultation.connect()
    result.timings["connected"] = time.monotonic()
    result.outcome = TransferOutcome.CONNECTED


LIVEKIT_SIP_SUBSCRIBE_SECONDS = 0.3
"""After the server publishes the callee's track, the caller's livekit-sip asks to subscribe to
it within ~10 ms; our unsubscribe must come after that request to be the one that counts."""


async def _isolate_after_answer(consultation: Consultation) -> None:
    """Keep the callee's first words from the caller without a gap in between.

    The server publishes the callee's track about a second after the answer, and the caller's
    livekit-sip subscribes at once; an unsubscribe racing that let 20-160 ms of the callee
    through. So the caller hears nothing (``can_subscribe`` off) from the answer until the
    track exists and our unsubscribe has followed livekit-sip's subscribe, ~1.3 s in which
    its hold audio pauses. Runs before the brief keeps this agent's loop busy.
    """
    await consultation.isolate()  # the callee's livekit-sip subscribes to everything now
    try:
        await consultation.set_caller_hearing(False)
    except api.TwirpError as exc:  # the caller left: nothing to protect
        logger.warning("could not pause the caller's audio", extra={"error": str(exc)})
        return
    try:
        if await consultation.isolate_once_audible():
            await asyncio.sleep(LIVEKIT_SIP_SUBSCRIBE_SECONDS)
            await consultation.isolate()
    finally:
        with contextlib.suppress(api.TwirpError):
            await consultation.set_caller_hearing(True)


async def _participant(room: rtc.Room, identity: str) -> rtc.RemoteParticipant:
    """The answered callee as this client sees it (its join event may trail the API answer)."""
    joined = asyncio.Event()

    def on_joined(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == identity:
            joined.set()

    room.on("participant_connected", on_joined)
    try:
        if identity not in room.remote_participants:
            await joined.wait()
        return room.remote_participants[identity]
    finally:
        room.off("participant_connected", on_joined)
