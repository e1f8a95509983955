"""What went wrong talking to LiveKit, and whether trying again can help."""

from __future__ import annotations

import asyncio
from typing import Final

import aiohttp
from livekit import api

from switchboard.errors import SwitchboardError

_RETRYABLE_CODES: Final = frozenset(
    {"unavailable", "internal", "deadline_exceeded", "unknown", "resource_exhausted", "aborted"}
)


class LiveKitError(SwitchboardError):
    """A LiveKit API call failed; ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def translate(exc: BaseException, action: str, url: str) -> LiveKitError:
    """A ``LiveKitError`` for an exception raised by livekit-api while doing ``action``."""
    if isinstance(exc, api.TwirpError):
        retryable = exc.status >= 500 or exc.code in _RETRYABLE_CODES
        hint = (
            "check LIVEKIT_API_KEY and LIVEKIT_API_SECRET"
            if exc.status in (401, 403)
            else "the server will be asked again"
            if retryable
            else "the request was refused; see the message"
        )
        return LiveKitError(
            f"{action}: LiveKit answered {exc.status} {exc.code}: {exc.message} ({hint})",
            retryable=retryable,
            status=exc.status,
        )
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return LiveKitError(f"{action}: LiveKit at {url} did not answer in time", retryable=True)
    if isinstance(exc, aiohttp.ClientError | OSError):
        reason = str(exc) or type(exc).__name__
        return LiveKitError(
            f"{action}: cannot reach LiveKit at {url}: {reason} "
            "(check LIVEKIT_URL and that livekit-server is running)",
            retryable=True,
        )
    return LiveKitError(f"{action}: {type(exc).__name__}: {exc}", retryable=False)
