"""Small routes: health, readiness, metrics and the decisions API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from switchboard.livekit import LiveKitError
from switchboard.service.auth import require_secret
from switchboard.service.history import room_history
from switchboard.service.runtime import ServiceRuntime
from switchboard.store import StoreError

DEAD_LETTER_CAP = 10_000


async def healthz(request: Request) -> PlainTextResponse:
    """The process is alive."""
    return PlainTextResponse("ok")


async def readyz(request: Request) -> JSONResponse:
    """200 when the store and the LiveKit API both answer; 503 naming what does not."""
    runtime: ServiceRuntime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await runtime.start()
    except Exception as exc:
        return JSONResponse({"ready": False, "start": str(exc)}, status_code=503)
    try:
        checks["pending_jobs"] = str(await runtime.store.pending_count())
        checks["store"] = "ok"
    except StoreError as exc:
        checks["store"] = str(exc)
    try:
        await runtime.client.ping()
        checks["livekit"] = "ok"
    except LiveKitError as exc:
        checks["livekit"] = str(exc)
    ready = checks.get("store") == "ok" and checks.get("livekit") == "ok"
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format; queue depth and dead letters are read from the store now."""
    runtime: ServiceRuntime = request.app.state.runtime
    if runtime.started:
        try:
            runtime.metrics.queue_depth.set(await runtime.store.pending_count())
            runtime.metrics.dead_letters.set(len(await runtime.store.dead_letters(DEAD_LETTER_CAP)))
        except StoreError:
            pass
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")


async def decisions(request: Request) -> JSONResponse:
    """``GET /api/decisions?room=NAME``: the room's decisions and timeline (secret required)."""
    runtime: ServiceRuntime = request.app.state.runtime
    denied = require_secret(request, runtime.settings)
    if denied is not None:
        return denied
    room = request.query_params.get("room", "")
    if not room:
        return JSONResponse({"error": "pass ?room=NAME"}, status_code=400)
    await runtime.start()
    return JSONResponse(await room_history(runtime.store, room))
