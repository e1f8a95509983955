"""dial() through the real livekit-server and livekit-sip to sipp phones answering each status."""

from __future__ import annotations

import time

import pytest
from livekit import api

from switchboard.handoff import (
    CallDeclined,
    CalleeBusy,
    DialError,
    DialFailed,
    DialTimeout,
    Forbidden,
    LoopDetected,
    NoAnswer,
    NotFound,
    Unavailable,
    dial,
)
from switchboard.stack.stack import Stack
from tests.integration.handoff.conftest import PhoneFactory
from tests.support.participants import eventually

NUMBER = "+15557654321"
IDENTITY = "human-desk"

pytestmark = pytest.mark.sip


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


async def test_answered_call_returns_the_participant(
    phone: PhoneFactory, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    desk = await phone(200)
    try:
        info = await dial(
            lkapi,
            trunk_id=desk.trunk_id,
            number=NUMBER,
            room_name=room_name,
            identity=IDENTITY,
            name="Sales desk",
            attributes={"switchboard.role": "human-agent"},
            ringing_timeout=10,
        )
        assert (info.participant_identity, info.room_name) == (IDENTITY, room_name)
        assert info.sip_call_id.startswith("SCL_")

        async def answered() -> bool:
            return any(
                p.attributes.get("sip.callStatus") == "active"
                for p in await _participants(lkapi, room_name)
            )

        await eventually(answered, timeout=5)
        (callee,) = await _participants(lkapi, room_name)
        assert (callee.identity, callee.name, callee.kind) == (
            IDENTITY,
            "Sales desk",
            api.ParticipantInfo.Kind.SIP,
        )
        assert callee.attributes["switchboard.role"] == "human-agent"
        assert callee.attributes["sip.phoneNumber"] == NUMBER
        assert f"INVITE sip:{NUMBER}@" in desk.sipp.messages()
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


@pytest.mark.parametrize(
    ("code", "error_type", "reason"),
    [
        (486, CalleeBusy, "Busy Here"),
        (480, NoAnswer, "Temporarily Unavailable"),
        (482, LoopDetected, "Loop Detected"),
        (403, Forbidden, "Forbidden"),
        (404, NotFound, "Not Found"),
        (503, Unavailable, "Service Unavailable"),
        (603, CallDeclined, "Decline"),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
async def test_rejected_call_raises_the_typed_error(
    phone: PhoneFactory,
    lkapi: api.LiveKitAPI,
    room_name: str,
    code: int,
    error_type: type[DialError],
    reason: str,
) -> None:
    callee = await phone(code, reason)
    try:
        with pytest.raises(DialError) as caught:
            await dial(
                lkapi,
                trunk_id=callee.trunk_id,
                number=NUMBER,
                room_name=room_name,
                identity=IDENTITY,
            )
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
    error = caught.value
    assert type(error) is error_type
    assert (error.sip_status_code, error.sip_status) == (code, reason)
    assert f"sip status: {code}" in error.detail  # the server's own words are kept
    assert str(error).startswith(f"SIP {code} {reason}: {error_type.explanation}")
    assert f"Fix: {error_type.fix}" in str(error)
    assert isinstance(error.__cause__, api.TwirpError)


async def test_loop_detected_says_why_and_how_to_fix_it(
    phone: PhoneFactory, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    looping = await phone(482, "Loop Detected")
    try:
        with pytest.raises(LoopDetected) as caught:
            await dial(
                lkapi,
                trunk_id=looping.trunk_id,
                number=NUMBER,
                room_name=room_name,
                identity=IDENTITY,
            )
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
    message = str(caught.value)
    assert message.startswith("SIP 482 Loop Detected: the outbound trunk routes back to")
    assert "Fix: dial a number outside that trunk" in message
    assert "origination URI" in message
    assert caught.value.outcome == "loop_detected"


async def test_phone_ringing_past_the_ringing_timeout_is_no_answer(
    phone: PhoneFactory, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """livekit-sip CANCELs at the ringing timeout and answers Twirp ``canceled``, "sip request
    timed out" (no SIP status): that is nobody picking up, not a broken carrier."""
    ringing = await phone(None)
    started = time.monotonic()
    try:
        with pytest.raises(NoAnswer) as caught:
            await dial(
                lkapi,
                trunk_id=ringing.trunk_id,
                number=NUMBER,
                room_name=room_name,
                identity=IDENTITY,
                ringing_timeout=2,
            )
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 8, elapsed
    error = caught.value
    assert (error.sip_status_code, error.sip_status) == (None, "Ringing Timeout")
    assert "sip request timed out" in error.detail
    ringing.sipp.wait_exit(timeout=5)
    messages = ringing.sipp.messages()
    assert "180 Ringing" in messages
    assert f"CANCEL sip:{NUMBER}@" in messages
    assert "487 Request Terminated" in messages


async def test_unknown_trunk_is_dial_failed_trunk_not_found(
    livekit_stack: object, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    with pytest.raises(DialFailed) as caught:
        await dial(
            lkapi, trunk_id="ST_doesnotexist", number=NUMBER, room_name=room_name, identity=IDENTITY
        )
    assert caught.value.sip_status == "Trunk Not Found"
    assert "not_found" in caught.value.detail
    assert "lk sip outbound list" in str(caught.value)


async def test_wrong_secret_is_dial_failed_api_permission_denied(
    livekit_stack: Stack, room_name: str
) -> None:
    """livekit-server answers a bad signature with a bare HTTP 401 (code ``unknown``)."""
    config = livekit_stack.config
    intruder = api.LiveKitAPI(config.http_url, config.api_key, "not-the-secret-" * 3)
    try:
        with pytest.raises(DialFailed) as caught:
            await dial(
                intruder, trunk_id="ST_x", number=NUMBER, room_name=room_name, identity=IDENTITY
            )
    finally:
        await intruder.aclose()
    assert caught.value.sip_status == "API Permission Denied"
    assert caught.value.detail == "unknown (HTTP 401)"
    assert "LIVEKIT_API_SECRET" in str(caught.value)


async def test_unreachable_livekit_is_dial_failed() -> None:
    closed = api.LiveKitAPI("http://127.0.0.1:9", "devkey", "secret-secret-secret-secret-secret")
    try:
        with pytest.raises(DialFailed, match="ClientConnectorError"):
            await dial(closed, trunk_id="ST_x", number=NUMBER, room_name="r", identity=IDENTITY)
    finally:
        await closed.aclose()


async def test_deadline_raises_dial_timeout_and_hangs_up_the_ringing_phone(
    phone: PhoneFactory, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """Past the deadline the callee must not keep ringing: a late answer would land in a room
    whose agent already told the caller nobody picked up."""
    ringing = await phone(None)
    started = time.monotonic()
    try:
        with pytest.raises(DialTimeout, match=r"within the 1\.5s deadline"):
            await dial(
                lkapi,
                trunk_id=ringing.trunk_id,
                number=NUMBER,
                room_name=room_name,
                identity=IDENTITY,
                ringing_timeout=20,
                deadline=1.5,
            )
        assert time.monotonic() - started < 3

        async def hung_up() -> bool:
            identities = [p.identity for p in await _participants(lkapi, room_name)]
            return IDENTITY not in identities and f"CANCEL sip:{NUMBER}@" in ringing.sipp.messages()

        await eventually(hung_up, timeout=5)
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
