"""dial() through the real livekit-api client against a Twirp stand-in."""

from __future__ import annotations

import pytest
from aiohttp import web
from livekit import api

from switchboard.handoff import CalleeBusy, DialFailed, DialTimeout, LoopDetected, dial

from .fake_livekit import FakeLiveKit, never_answers, twirp_error


async def dial_test_number(lkapi: api.LiveKitAPI, **kwargs: object) -> api.SIPParticipantInfo:
    return await dial(
        lkapi,
        trunk_id="ST_out",
        number="+15550100",
        room_name="call-1",
        identity="human-1",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_answered_call_returns_participant_info(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    info = await dial_test_number(
        lkapi_fake,
        name="Sales",
        display_name="Acme",
        attributes={"switchboard.role": "human-agent"},
        ringing_timeout=20,
        max_call_duration=600,
    )
    assert info.participant_identity == "human-1"
    (request,) = fake_livekit.methods("CreateSIPParticipant")
    assert isinstance(request, api.CreateSIPParticipantRequest)
    assert request.wait_until_answered
    assert (request.sip_trunk_id, request.sip_call_to) == ("ST_out", "+15550100")
    assert (request.room_name, request.participant_identity) == ("call-1", "human-1")
    assert request.participant_name == "Sales"
    assert request.display_name == "Acme"
    assert dict(request.participant_attributes) == {"switchboard.role": "human-agent"}
    assert request.ringing_timeout.seconds == 20
    assert request.max_call_duration.seconds == 600


async def test_busy_callee(fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI) -> None:
    async def busy(_req: api.CreateSIPParticipantRequest) -> web.Response:
        return twirp_error(
            "unavailable",
            "unexpected status from INVITE response: sip status: 486",
            503,
            {"sip_status_code": "486", "sip_status": "Busy Here"},
        )

    fake_livekit.sip_handler = busy
    with pytest.raises(CalleeBusy) as info:
        await dial_test_number(lkapi_fake)
    assert info.value.sip_status_code == 486
    assert isinstance(info.value.__cause__, api.SipCallError)


async def test_loop_detected_without_metadata(
    fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI
) -> None:
    async def loop(_req: api.CreateSIPParticipantRequest) -> web.Response:
        return twirp_error(
            "failed_precondition",
            "twirp error unknown: unexpected status from INVITE response: sip status: 482 "
            "(LOOP_DETECTED)",
            412,
        )

    fake_livekit.sip_handler = loop
    with pytest.raises(LoopDetected, match="routes back to an inbound number"):
        await dial_test_number(lkapi_fake)


async def test_deadline(fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI) -> None:
    fake_livekit.sip_handler = never_answers
    with pytest.raises(DialTimeout, match=r"within the 0\.3s deadline"):
        await dial_test_number(lkapi_fake, deadline=0.3)


async def test_unknown_trunk(fake_livekit: FakeLiveKit, lkapi_fake: api.LiveKitAPI) -> None:
    fake_livekit.fail_with = twirp_error("not_found", "sip trunk not found", 404)
    with pytest.raises(DialFailed, match="Trunk Not Found"):
        await dial_test_number(lkapi_fake)


async def test_unreachable_server() -> None:
    client = api.LiveKitAPI("http://127.0.0.1:9", "devkey", "secret-secret-secret-secret-secret")
    try:
        with pytest.raises(DialFailed, match="ClientConnectorError"):
            await dial_test_number(client)
    finally:
        await client.aclose()
