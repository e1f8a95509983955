"""``POST /livekit/webhook``: read at most 1 MiB, hand it to the intake, answer at once."""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from switchboard.service.intake import MAX_BODY_BYTES, IntakeResult
from switchboard.service.runtime import ServiceRuntime
from switchboard.store import StoreError

logger = logging.getLogger("switchboard.webhook")


async def webhook(request: Request) -> JSONResponse:
    """Verify, record and decide one LiveKit webhook; 2xx unless the request itself is bad."""
    started = time.perf_counter()
    runtime: ServiceRuntime = request.app.state.runtime
    body = await _read_limited(request)
    if body is None:
        result = IntakeResult(413, "rejected", detail={"reason": "body larger than 1 MiB"})
    else:
        try:
            await runtime.start()
            result = await runtime.intake.handle(body, request.headers.get("authorization"))
        except StoreError as exc:
            # Nothing was recorded; livekit-server retries a 5xx with the same event id.
            logger.warning("webhook not recorded, the store failed", extra={"error": str(exc)})
            result = IntakeResult(503, "unavailable", detail={"reason": str(exc)})
    metrics = runtime.metrics
    metrics.webhooks.labels(event=result.event_type or "-", outcome=result.outcome).inc()
    metrics.ack_seconds.observe(time.perf_counter() - started)
    return JSONResponse(result.to_json(), status_code=result.status)


async def _read_limited(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
