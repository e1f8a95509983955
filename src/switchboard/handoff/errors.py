"""Outcomes of dialing a phone, as typed errors: what the callee's side answered, and the fix."""

from __future__ import annotations

import re
from typing import ClassVar

from livekit import api

from switchboard.errors import SwitchboardError
from switchboard.vocabulary import DialOutcome

_SIP_STATUS_IN_MESSAGE = re.compile(r"sip status:?\s*(\d{3})", re.IGNORECASE)


class DialError(SwitchboardError):
    """An outbound call did not connect; ``outcome`` is a stable slug for logs and attributes."""

    outcome: ClassVar[DialOutcome] = DialOutcome.FAILED
    status_codes: ClassVar[tuple[int, ...]] = ()
    default_reason: ClassVar[str] = "Call Failed"
    explanation: str = "the call could not be connected."
    fix: str = "check the LiveKit SIP logs for this call."

    def __init__(
        self,
        sip_status_code: int | None = None,
        sip_status: str = "",
        *,
        detail: str = "",
        explanation: str = "",
        fix: str = "",
    ) -> None:
        self.sip_status_code = sip_status_code
        self.sip_status = sip_status or self.default_reason
        self.detail = detail
        if explanation:
            self.explanation = explanation
        if fix:
            self.fix = fix
        super().__init__(self._render())

    @property
    def status_line(self) -> str:
        """``486 Busy Here``, or empty when no SIP status came back."""
        return f"{self.sip_status_code} {self.sip_status}" if self.sip_status_code else ""

    def _render(self) -> str:
        code = self.sip_status_code
        head = f"SIP {code} {self.sip_status}" if code is not None else self.sip_status
        text = f"{head}: {self.explanation} Fix: {self.fix}"
        return f"{text} (server said: {self.detail})" if self.detail else text


class CalleeBusy(DialError):
    outcome = DialOutcome.BUSY
    status_codes = (486, 600)
    default_reason = "Busy Here"
    explanation = "the callee is on another call or rejected it as busy."
    fix = "offer the caller a callback, or dial another target."


class NoAnswer(DialError):
    outcome = DialOutcome.NO_ANSWER
    status_codes = (480, 408, 487)
    default_reason = "Temporarily Unavailable"
    explanation = "the callee did not pick up before the ringing timeout."
    fix = "offer the caller a callback, or raise the target's ringing timeout."


class CallDeclined(DialError):
    outcome = DialOutcome.DECLINED
    status_codes = (603,)
    default_reason = "Decline"
    explanation = "the callee declined the call."
    fix = "offer the caller a callback, or dial another target."


class LoopDetected(DialError):
    outcome = DialOutcome.LOOP_DETECTED
    status_codes = (482,)
    default_reason = "Loop Detected"
    explanation = (
        "the outbound trunk routes back to an inbound number or URI of the same project or "
        "carrier trunk, so the carrier saw its own INVITE come back."
    )
    fix = (
        "dial a number outside that trunk (not the project's own inbound number), "
        "or fix the carrier's origination URI so it does not point back at this trunk."
    )


class Forbidden(DialError):
    outcome = DialOutcome.FORBIDDEN
    status_codes = (403,)
    default_reason = "Forbidden"
    explanation = (
        "the carrier refused the call: bad trunk credentials, or the number is not allowed."
    )
    fix = (
        "check the outbound trunk's auth username/password and the carrier's allowed "
        "destinations and caller ID."
    )


class NotFound(DialError):
    outcome = DialOutcome.NOT_FOUND
    status_codes = (404,)
    default_reason = "Not Found"
    explanation = "the carrier does not know the dialed number or SIP URI."
    fix = "check the number is in E.164 form (+15551234567) and that the trunk can reach it."


class Unavailable(DialError):
    outcome = DialOutcome.UNAVAILABLE
    status_codes = (503,)
    default_reason = "Service Unavailable"
    explanation = "the carrier or the SIP service is temporarily unavailable."
    fix = "retry later; if it persists, check livekit-sip is running and the carrier's status."


class DialTimeout(DialError):
    outcome = DialOutcome.TIMEOUT
    default_reason = "Dial Timeout"
    explanation = "no final answer to the INVITE arrived before the deadline."
    fix = "check the carrier is reachable from livekit-sip, or raise the dial deadline."


class DialFailed(DialError):
    """Any other failure: an unmapped SIP status, or an API error before dialing started."""


_BY_STATUS: dict[int, type[DialError]] = {
    code: cls
    for cls in (CalleeBusy, NoAnswer, CallDeclined, LoopDetected, Forbidden, NotFound, Unavailable)
    for code in cls.status_codes
}


def dial_error_for_status(
    sip_status_code: int, sip_status: str = "", detail: str = ""
) -> DialError:
    """The typed error for a final SIP status code (``DialFailed`` when none is specific)."""
    cls = _BY_STATUS.get(sip_status_code, DialFailed)
    return cls(sip_status_code, sip_status, detail=detail)


def sip_error_from_twirp(exc: api.TwirpError | BaseException) -> DialError:
    """Map what ``create_sip_participant`` raised to a ``DialError``.

    livekit-api raises ``TwirpError`` (alias of ``ServerError``; ``SipCallError`` when the
    callee's side answered) whose ``metadata`` carries ``sip_status_code`` and ``sip_status``;
    older servers only put the status in the message text, so that is parsed as a fallback.
    """
    if isinstance(exc, DialError):
        return exc
    if isinstance(exc, TimeoutError):
        return DialTimeout(detail=str(exc) or type(exc).__name__)
    if not isinstance(exc, api.TwirpError):
        return DialFailed(detail=f"{type(exc).__name__}: {exc}")
    detail = twirp_detail(exc)
    status = _status_code(exc.metadata.get("sip_status_code"), exc.message)
    if status is not None:
        return dial_error_for_status(status, exc.metadata.get("sip_status", ""), detail)
    return _api_error(exc.code, detail, exc.status)


def twirp_detail(exc: api.TwirpError) -> str:
    """The server's words; livekit-server answers a bad key or secret with a bare HTTP 401,
    which the SDK reports as code ``unknown`` and no message, so the HTTP status is kept."""
    if exc.message:
        return f"{exc.code}: {exc.message}"
    return f"{exc.code} (HTTP {exc.status})"


def _api_error(code: str, detail: str, http_status: int = 0) -> DialError:
    """A failure LiveKit reported before (or instead of) a SIP answer."""
    if "sip not connected" in detail.lower():
        return DialFailed(
            sip_status="SIP Service Not Connected",
            detail=detail,
            explanation="livekit-server has no livekit-sip service to place the call.",
            fix="run livekit-sip against the same Redis as livekit-server (SIP requires Redis).",
        )
    if "request timed out" in detail.lower():
        # livekit-sip gave up after the target's ringing_timeout (seen as Twirp "canceled").
        return NoAnswer(sip_status="Ringing Timeout", detail=detail)
    if code == api.TwirpErrorCode.DEADLINE_EXCEEDED:
        return DialTimeout(detail=detail)
    if code == api.TwirpErrorCode.UNAVAILABLE:
        return Unavailable(detail=detail)
    denied = (api.TwirpErrorCode.PERMISSION_DENIED, api.TwirpErrorCode.UNAUTHENTICATED)
    if code in denied or http_status in (401, 403):
        return DialFailed(
            sip_status="API Permission Denied",
            detail=detail,
            explanation="LiveKit refused the request before dialing.",
            fix=(
                "use an API key/secret of this project (LIVEKIT_API_KEY, LIVEKIT_API_SECRET); "
                "the SIP call grant is added by the SDK."
            ),
        )
    if code == api.TwirpErrorCode.NOT_FOUND:
        return DialFailed(
            sip_status="Trunk Not Found",
            detail=detail,
            explanation="LiveKit has no outbound trunk with that id.",
            fix="check the target's sip_trunk_id against `lk sip outbound list`.",
        )
    if code in (api.TwirpErrorCode.INVALID_ARGUMENT, api.TwirpErrorCode.MALFORMED):
        return DialFailed(
            sip_status="Invalid Request",
            detail=detail,
            explanation="LiveKit rejected the dial request as invalid.",
            fix="check the number, trunk id and participant identity of the target.",
        )
    return DialFailed(detail=detail)


def _status_code(raw: str | None, message: str) -> int | None:
    if raw is not None and raw.strip().isdigit():
        return int(raw)
    match = _SIP_STATUS_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else None


class RoomSetupError(SwitchboardError):
    """A room or agent dispatch could not be created through the LiveKit API."""
