"""SIP outcomes from real livekit-api exceptions, built the way the SDK builds them."""

from __future__ import annotations

import pytest
from livekit import api
from livekit.api.sip_service import _as_sip_error
from livekit.api.twirp_client import TwirpClient

from switchboard.errors import SwitchboardError
from switchboard.handoff.errors import (
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
    dial_error_for_status,
    sip_error_from_twirp,
)

LOOP_MESSAGE = (
    "error creating SIP participant: twirp error unknown: unexpected status from INVITE "
    "response: sip status: 482 (LOOP_DETECTED), SIP status: 482 SIP_STATUS_LOOP_DETECTED"
)


def sdk_error(
    code: str, msg: str, meta: dict[str, str] | None = None, status: int = 500
) -> api.TwirpError:
    """What ``create_sip_participant`` raises for a Twirp error body (as the SDK builds it)."""
    body: dict[str, object] = {"code": code, "msg": msg}
    if meta is not None:
        body["meta"] = meta
    return _as_sip_error(TwirpClient._server_error(body, status))


def sip_failure(status_code: int, reason: str) -> api.TwirpError:
    return sdk_error(
        "unknown",
        f"unexpected status from INVITE response: sip status: {status_code}",
        {"sip_status_code": str(status_code), "sip_status": reason},
    )


def test_sdk_surfaces_sip_failures_as_sip_call_error() -> None:
    assert isinstance(sip_failure(486, "Busy Here"), api.SipCallError)


@pytest.mark.parametrize(
    ("status_code", "reason", "expected", "outcome"),
    [
        (486, "Busy Here", CalleeBusy, "busy"),
        (600, "Busy Everywhere", CalleeBusy, "busy"),
        (480, "Temporarily Unavailable", NoAnswer, "no_answer"),
        (408, "Request Timeout", NoAnswer, "no_answer"),
        (487, "Request Terminated", NoAnswer, "no_answer"),
        (603, "Decline", CallDeclined, "declined"),
        (482, "Loop Detected", LoopDetected, "loop_detected"),
        (403, "Forbidden", Forbidden, "forbidden"),
        (404, "Not Found", NotFound, "not_found"),
        (503, "Service Unavailable", Unavailable, "unavailable"),
        (500, "Server Internal Error", DialFailed, "failed"),
        (488, "Not Acceptable Here", DialFailed, "failed"),
    ],
)
def test_sip_status_maps_to_typed_error(
    status_code: int, reason: str, expected: type[DialError], outcome: str
) -> None:
    error = sip_error_from_twirp(sip_failure(status_code, reason))
    assert type(error) is expected
    assert error.outcome == outcome
    assert error.sip_status_code == status_code
    assert error.sip_status == reason
    assert str(error).startswith(f"SIP {status_code} {reason}: ")
    assert isinstance(error, SwitchboardError)


def test_loop_detected_message_says_what_and_how_to_fix() -> None:
    error = sip_error_from_twirp(
        sdk_error(
            "failed_precondition",
            LOOP_MESSAGE,
            {"sip_status_code": "482", "sip_status": "Loop Detected"},
        )
    )
    assert isinstance(error, LoopDetected)
    text = str(error)
    assert "routes back to an inbound number or URI of the same project or carrier trunk" in text
    assert "dial a number outside" in text
    assert "origination URI" in text
    assert "482 SIP_STATUS_LOOP_DETECTED" in error.detail


def test_status_is_read_from_message_when_metadata_is_missing() -> None:
    error = sip_error_from_twirp(sdk_error("unknown", LOOP_MESSAGE))
    assert isinstance(error, LoopDetected)
    assert error.sip_status_code == 482
    assert error.sip_status == "Loop Detected"


def test_garbage_status_code_in_metadata_falls_back_to_message() -> None:
    error = sip_error_from_twirp(
        sdk_error("unknown", "sip status: 486", {"sip_status_code": "busy?"})
    )
    assert isinstance(error, CalleeBusy)


@pytest.mark.parametrize(
    ("code", "expected", "phrase"),
    [
        ("deadline_exceeded", DialTimeout, "Dial Timeout"),
        ("unavailable", Unavailable, "Service Unavailable"),
        ("permission_denied", DialFailed, "API Permission Denied"),
        ("unauthenticated", DialFailed, "API Permission Denied"),
        ("not_found", DialFailed, "Trunk Not Found"),
        ("invalid_argument", DialFailed, "Invalid Request"),
        ("internal", DialFailed, "Call Failed"),
    ],
)
def test_api_errors_without_sip_status(code: str, expected: type[DialError], phrase: str) -> None:
    error = sip_error_from_twirp(sdk_error(code, "something went wrong", status=400))
    assert type(error) is expected
    assert error.sip_status_code is None
    assert str(error).startswith(f"{phrase}: ")
    assert "something went wrong" in str(error)


def test_plain_sdk_server_error_is_not_a_sip_call_error_but_still_maps() -> None:
    error = sdk_error("not_found", "outbound trunk ST_nope not found", status=404)
    assert not isinstance(error, api.SipCallError)
    assert "lk sip outbound list" in str(sip_error_from_twirp(error))


@pytest.mark.parametrize("exc", [TimeoutError("deadline"), TimeoutError()])
def test_timeouts_map_to_dial_timeout(exc: BaseException) -> None:
    assert isinstance(sip_error_from_twirp(exc), DialTimeout)


def test_unknown_exceptions_map_to_dial_failed() -> None:
    error = sip_error_from_twirp(ConnectionResetError("peer reset"))
    assert type(error) is DialFailed
    assert "ConnectionResetError: peer reset" in str(error)


def test_dial_errors_pass_through_unchanged() -> None:
    original = CalleeBusy(486, "Busy Here")
    assert sip_error_from_twirp(original) is original


def test_dial_error_for_status_defaults_reason_phrase() -> None:
    error = dial_error_for_status(486)
    assert error.sip_status == "Busy Here"
    assert str(error).startswith("SIP 486 Busy Here: the callee is on another call")


def test_missing_sip_service_is_named() -> None:
    error = sip_error_from_twirp(
        sdk_error("internal", "twirp error unknown: sip not connected (redis required)")
    )
    assert type(error) is DialFailed
    assert str(error).startswith("SIP Service Not Connected: ")
    assert "same Redis" in str(error)


def test_ringing_timeout_is_no_answer() -> None:
    # What livekit-server 1.13 + livekit-sip 1.8 return when the phone rings past ringing_timeout.
    error = sip_error_from_twirp(
        sdk_error("canceled", "twirp error unknown: sip request timed out", status=408)
    )
    assert type(error) is NoAnswer
    assert error.outcome == "no_answer"
    assert str(error).startswith("Ringing Timeout: the callee did not pick up")


def test_status_line_names_the_sip_answer_or_is_empty() -> None:
    assert dial_error_for_status(486, "Busy Here").status_line == "486 Busy Here"
    assert DialTimeout(detail="no final answer").status_line == ""
