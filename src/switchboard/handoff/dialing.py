"""Dial a phone into a room and wait for the answer; failures become typed ``DialError``s."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from livekit import api
from opentelemetry.trace import Span, StatusCode

from switchboard.handoff.errors import DialError, DialTimeout, sip_error_from_twirp
from switchboard.telemetry import step_span
from switchboard.tracing.steps import Step

logger = logging.getLogger("switchboard.handoff")


async def dial(
    lkapi: api.LiveKitAPI,
    *,
    trunk_id: str,
    number: str,
    room_name: str,
    identity: str,
    name: str = "",
    display_name: str = "",
    attributes: Mapping[str, str] | None = None,
    metadata: str = "",
    ringing_timeout: float | None = None,
    max_call_duration: float | None = None,
    play_dialtone: bool = False,
    deadline: float | None = None,
) -> api.SIPParticipantInfo:
    """CreateSIPParticipant with ``wait_until_answered=True``; return once the callee answered.

    Args:
        number: E.164 number or SIP URI, sent as ``sip_call_to``.
        identity: the callee's participant identity in ``room_name``.
        attributes: set on the callee's participant (LiveKit adds the ``sip.*`` ones).
        ringing_timeout: seconds the phone may ring (server default 30).
        deadline: seconds for the whole request; past it the ringing callee is hung up and
            ``DialTimeout`` is raised.

    Raises:
        DialError: ``CalleeBusy``, ``NoAnswer``, ``LoopDetected``... see handoff/errors.py.
    """
    request = api.CreateSIPParticipantRequest(
        sip_trunk_id=trunk_id,
        sip_call_to=number,
        room_name=room_name,
        participant_identity=identity,
        participant_name=name,
        participant_metadata=metadata,
        participant_attributes=dict(attributes or {}),
        play_dialtone=play_dialtone,
        wait_until_answered=True,
    )
    if display_name:
        request.display_name = display_name
    if ringing_timeout is not None:
        request.ringing_timeout.seconds = max(1, round(ringing_timeout))
    if max_call_duration is not None:
        request.max_call_duration.seconds = max(1, round(max_call_duration))
    logger.info("dialing", extra={"room": room_name, "identity": identity, "trunk_id": trunk_id})
    leg = {"sip.direction": "outbound", "sip.identity": identity, "sip.trunk_id": trunk_id}
    with step_span(Step.SIP_LEG, attributes=leg) as span:
        span.add_event("ringing")
        try:
            async with asyncio.timeout(deadline):
                info: api.SIPParticipantInfo = await lkapi.sip.create_sip_participant(
                    request, timeout=deadline
                )
        except TimeoutError as exc:
            # livekit-sip keeps ringing after we stop waiting; hang up, or a late answer would
            # put the callee in a room whose agent already gave up on them.
            await hang_up(lkapi, room_name, identity)
            limit = f"the {deadline}s deadline" if deadline else "the ringing timeout"
            error: DialError = DialTimeout(detail=f"no final answer within {limit}")
            _dial_failed(span, error)
            raise error from exc
        except Exception as exc:
            error = sip_error_from_twirp(exc)
            logger.info(
                "dial failed",
                extra={
                    "room": room_name,
                    "identity": identity,
                    "outcome": error.outcome,
                    "sip_status_code": error.sip_status_code,
                },
            )
            _dial_failed(span, error)
            raise error from exc
        span.add_event("answered")
        span.set_attributes({"sip.outcome": "answered", "sip.status_code": 200})
    logger.info("answered", extra={"room": room_name, "identity": identity})
    return info


def _dial_failed(span: Span, error: DialError) -> None:
    """The leg's span says how the dial ended: the outcome and the SIP status."""
    span.set_attribute("sip.outcome", error.outcome)
    if error.sip_status_code:
        span.set_attribute("sip.status_code", error.sip_status_code)
    span.add_event("hung up", {"sip.status": error.status_line or error.outcome})
    span.set_status(StatusCode.ERROR, error.outcome)


async def hang_up(lkapi: api.LiveKitAPI, room_name: str, identity: str) -> None:
    """Remove the ringing callee (livekit-sip then CANCELs the INVITE); it may already be gone."""
    try:
        await lkapi.room.remove_participant(
            api.RoomParticipantIdentity(room=room_name, identity=identity)
        )
    except Exception:
        logger.info("could not hang up", extra={"room": room_name, "identity": identity})
