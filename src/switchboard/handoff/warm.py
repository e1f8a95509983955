"""Warm transfer on any LiveKit server: dial the human into the caller's room, brief them in
private, connect on acceptance. No ``MoveParticipant`` (LiveKit Cloud only) is needed.

The consulting agent calls ``warm_transfer``. Whoever keeps the caller company meanwhile (the
same agent or another one) plays hold audio to the caller only (``HoldAudio`` +
``only_heard_by``); see docs/handoff.md for the whole sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from livekit import api, rtc

from switchboard.aio import cancel_and_wait
from switchboard.handoff.consultation import Consultation, heard_by_all, only_heard_by
from switchboard.handoff.dialing import dial, hang_up
from switchboard.handoff.errors import DialError
from switchboard.handoff.outcomes import TransferOutcome

logger = logging.getLogger("switchboard.handoff")

Decide = Callable[[rtc.RemoteParticipant], Awaitable[bool | None]]
"""Briefs the human; True = accepted, False = declined, None = no decision (e.g. voicemail)."""


@dataclass(frozen=True, slots=True)
class Callee:
    """One human to dial: who they will be in the room, and how to reach them."""

    identity: str
    number: str
    trunk_id: str
    ringing_timeout: float = 30
    name: str = ""
    dial_deadline: float | None = None
    """Seconds for the whole dial request (default: no limit beyond the ringing timeout)."""


@dataclass(slots=True)
class WarmTransferResult:
    outcome: TransferOutcome
    human_identity: str
    error: DialError | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """``time.monotonic()`` of each step reached: dialing, answered, decided, connected."""
    attempts: dict[str, str] = field(default_factory=dict)
    """How each human dialed ended, by identity: a dial outcome or a transfer outcome."""

    @property
    def reason(self) -> str:
        """The outcome name callers and fallbacks use: a dial outcome when dialing failed."""
        return self.error.outcome if self.error is not None else self.outcome.value


CallerLeft = Callable[[rtc.RemoteParticipant], Awaitable[None]]
"""Tells the human being briefed that the caller hung up, before they are hung up too."""
CALLER_LEFT_LINE_SECONDS = 10.0
"""How long ``on_caller_left`` may talk to the human before the human is hung up."""


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
    on_caller_left: CallerLeft | None = None,
) -> WarmTransferResult:
    """Dial the human into ``room``, let ``decide`` brief them privately, connect or hang up.

    The calling agent's own tracks are restricted to the human from here on. On CONNECTED the
    caller and human hear each other; the agent should then leave (``ctx.shutdown``). On any
    other outcome the human has been hung up and the agent's tracks are audible to all again.
    """
    callee = Callee(human_identity, number, trunk_id, ringing_timeout, human_name, dial_deadline)
    return await warm_transfer_first(
        room,
        lkapi,
        caller_identity=caller_identity,
        callees=[callee],
        decide=decide,
        display_name=display_name,
        attributes=attributes,
        decision_timeout=decision_timeout,
        on_caller_left=on_caller_left,
    )


async def warm_transfer_first(
    room: rtc.Room,
    lkapi: api.LiveKitAPI,
    *,
    caller_identity: str,
    callees: Sequence[Callee],
    decide: Decide,
    display_name: str = "",
    attributes: Mapping[str, str] | None = None,
    decision_timeout: float = 60,
    on_caller_left: CallerLeft | None = None,
) -> WarmTransferResult:
    """``warm_transfer`` ringing every one of ``callees`` at once: the first to answer is
    briefed, the others are hung up at once. With one callee it is ``warm_transfer``."""
    result = WarmTransferResult(TransferOutcome.DIAL_FAILED, callees[0].identity)
    result.timings["dialing"] = time.monotonic()
    only_heard_by(room, [c.identity for c in callees])
    consultations = {
        c.identity: Consultation(lkapi, room, caller=caller_identity, human=c.identity)
        for c in callees
    }
    for consultation in consultations.values():
        consultation.start()
    caller_left = asyncio.Event()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == caller_identity:
            caller_left.set()

    room.on("participant_disconnected", on_left)
    try:
        dials = {
            c.identity: functools.partial(
                dial,
                lkapi,
                trunk_id=c.trunk_id,
                number=c.number,
                room_name=room.name,
                identity=c.identity,
                name=c.name,
                display_name=display_name,
                attributes=attributes,
                ringing_timeout=c.ringing_timeout,
                deadline=c.dial_deadline,
            )
            for c in callees
        }
        steps = asyncio.ensure_future(
            _dial_and_decide(room, lkapi, result, consultations, decide, decision_timeout, dials)
        )
        left = asyncio.ensure_future(caller_left.wait())
        done, _ = await asyncio.wait({steps, left}, return_when=asyncio.FIRST_COMPLETED)
        if steps not in done:
            await cancel_and_wait([steps])
            result.outcome = TransferOutcome.CALLER_LEFT
            result.error = None
            human = room.remote_participants.get(result.human_identity)
            if "answered" in result.timings and human is not None and on_caller_left:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(on_caller_left(human), CALLER_LEFT_LINE_SECONDS)
        left.cancel()
        if steps in done:
            steps.result()  # re-raise anything unexpected
    finally:
        room.off("participant_disconnected", on_left)
        for consultation in consultations.values():
            consultation.close()
    if result.outcome is not TransferOutcome.CONNECTED:
        # Phones that may be ringing or answered: end them (hang_up tolerates the gone).
        ringing = [c.identity for c in callees if c.identity not in result.attempts]
        if result.outcome is not TransferOutcome.DIAL_FAILED:
            ringing.append(result.human_identity)
        await asyncio.gather(*(hang_up(lkapi, room.name, i) for i in set(ringing)))
        if "answered" in result.timings:
            result.attempts[result.human_identity] = result.outcome.value
        heard_by_all(room)
    else:
        result.attempts[result.human_identity] = result.outcome.value
    logger.info(
        "warm transfer finished",
        extra={
            "room": room.name,
            "outcome": result.reason,
            "human": result.human_identity,
            "attempts": result.attempts,
        },
    )
    return result


async def _dial_and_decide(
    room: rtc.Room,
    lkapi: api.LiveKitAPI,
    result: WarmTransferResult,
    consultations: Mapping[str, Consultation],
    decide: Decide,
    decision_timeout: float,
    dials: Mapping[str, Callable[[], Awaitable[api.SIPParticipantInfo]]],
) -> None:
    answered = await _first_answer(lkapi, room.name, result, dials)
    if answered is None:
        return
    result.human_identity = answered
    result.error = None
    result.timings["answered"] = time.monotonic()
    for identity, other in consultations.items():
        if identity != answered:
            other.close()
    consultation = consultations[answered]
    # The human's livekit-sip subscribes to the caller now, the caller's to the human's track
    # once its media flows: keep both apart while the brief starts.
    await _isolate_after_answer(consultation)
    human = await asyncio.wait_for(_participant(room, answered), 10)
    accepted = await _decision(room, human, decide, decision_timeout)
    result.timings["decided"] = time.monotonic()
    if isinstance(accepted, TransferOutcome):
        result.outcome = accepted
        return
    if accepted is None:
        result.outcome = TransferOutcome.NO_DECISION
        return
    if not accepted:
        result.outcome = TransferOutcome.DECLINED
        return
    await consultation.connect()
    result.timings["connected"] = time.monotonic()
    result.outcome = TransferOutcome.CONNECTED


async def _first_answer(
    lkapi: api.LiveKitAPI,
    room_name: str,
    result: WarmTransferResult,
    dials: Mapping[str, Callable[[], Awaitable[api.SIPParticipantInfo]]],
) -> str | None:
    """Dial every callee at once; the identity of the first to answer, the others hung up.
    Each failure is kept in ``result.attempts`` and the last one in ``result.error``."""
    ringing = {asyncio.ensure_future(place()): identity for identity, place in dials.items()}
    try:
        while ringing:
            done, _ = await asyncio.wait(ringing, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                identity = ringing.pop(task)
                error = task.exception()
                if error is None:
                    return identity
                if not isinstance(error, DialError):
                    raise error
                result.attempts[identity] = error.outcome
                result.error = error
        return None
    finally:
        losers = list(ringing.values())
        for task in ringing:
            task.cancel()
        await asyncio.gather(*ringing, return_exceptions=True)
        await asyncio.gather(*(hang_up(lkapi, room_name, i) for i in losers))
        for identity in losers:
            result.attempts.setdefault(identity, "hung_up")


async def _decision(
    room: rtc.Room, human: rtc.RemoteParticipant, decide: Decide, decision_timeout: float
) -> bool | TransferOutcome | None:
    """What ``decide`` answered, or HUMAN_LEFT when the human hung up before deciding."""
    gone = asyncio.Event()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == human.identity:
            gone.set()

    room.on("participant_disconnected", on_left)
    deciding = asyncio.ensure_future(asyncio.wait_for(decide(human), decision_timeout))
    left = asyncio.ensure_future(gone.wait())
    try:
        await asyncio.wait({deciding, left}, return_when=asyncio.FIRST_COMPLETED)
        if gone.is_set() or human.identity not in room.remote_participants:
            return TransferOutcome.HUMAN_LEFT
        try:
            return deciding.result()
        except TimeoutError:
            return None
    finally:
        room.off("participant_disconnected", on_left)
        for task in (deciding, left):
            task.cancel()
        await asyncio.gather(deciding, left, return_exceptions=True)


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
