"""The console's Starlette routes: the two pages, login, and the JSON/SSE API behind them."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from livekit import api
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from switchboard.console import _auth
from switchboard.console._deps import ConsoleDeps, TokenRequest
from switchboard.console._live import LiveView
from switchboard.store import Store
from switchboard.vocabulary import AttributeKey, Role

STATIC = Path(__file__).with_name("static")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$|^sips?:\S+$")


class _TokenBody(BaseModel):
    room: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=128)
    identity: str = Field("", max_length=256)
    representative: bool = False


class _DialBody(BaseModel):
    room: str = Field(min_length=1, max_length=256)
    number: str = Field(min_length=2, max_length=256)


class Console:
    """The routes' shared state: the dependencies, one LiveKit client, the live view."""

    def __init__(self, deps: ConsoleDeps) -> None:
        self.deps = deps
        self._store: Store | None = None
        self.live = LiveView(self.client, self.store, deps.poll_interval)

    def client(self) -> api.LiveKitAPI:
        """A LiveKit client for one use, closed by the caller (``async with``): nothing in the
        app's lifespan would close one kept for the app's life, and its aiohttp session leaked."""
        deps = self.deps
        return api.LiveKitAPI(deps.api_url or deps.livekit_url, deps.api_key, deps.api_secret)

    async def store(self) -> Store | None:
        source = self.deps.store
        if isinstance(source, Store):
            return source
        if isinstance(source, str):
            if not source:
                return None
            if self._store is None:
                self._store = await Store.open(source)
            return self._store
        return source()

    def authorized(self, request: Request) -> bool:
        return _auth.is_authorized(request, self.deps.token_secret)

    async def page(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.login_redirect(request)
        name = "phone.html" if request.url.path.rstrip("/").endswith("/phone") else "console.html"
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    async def login_with_link(self, request: Request) -> Response:
        next_path = request.query_params.get("next", "/console")
        secret = self.deps.token_secret
        if not secret:
            return _auth.api_denied(secret)
        if not _auth.PROCESS_LOGIN_LINKS.redeem(request.path_params["token"]):
            return _auth.login_page(
                next_path,
                "That login link was already used or has expired; log in with the secret, or "
                "ask for a new link (switchboard serve --print-login-link, make dev).",
                401,
            )
        # A clean address: the spent token leaves the address bar and the history at once.
        redirect = RedirectResponse(_auth.safe_next(next_path), 303)
        return _auth.with_session(redirect, secret, request)

    async def new_login_link(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        next_path = _auth.safe_next(request.query_params.get("next", "/console"))
        token = _auth.PROCESS_LOGIN_LINKS.issue()
        return JSONResponse(
            {
                "url": _auth.login_link(str(request.base_url), token, next_path),
                "expires_in": int(_auth.PROCESS_LOGIN_LINKS.ttl),
            }
        )

    async def login_form(self, request: Request) -> Response:
        return _auth.login_page(request.query_params.get("next", "/console"))

    async def login(self, request: Request) -> Response:
        form = await request.form()
        given, next_path = str(form.get("secret", "")), str(form.get("next", "/console"))
        secret = self.deps.token_secret
        if not secret:
            return _auth.api_denied(secret)
        if not secrets.compare_digest(given.encode(), secret.encode()):
            return _auth.login_page(next_path, "That secret is not the right one.", 401)
        redirect = RedirectResponse(_auth.safe_next(next_path), 303)
        return _auth.with_session(redirect, secret, request)

    async def token(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        try:
            body = _TokenBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return _invalid(exc)
        identity = body.identity or f"web_{_slug(body.name)}_{secrets.token_hex(3)}"
        attributes: dict[str, str] = {}
        if body.representative:
            attributes[AttributeKey.ROLE] = Role.REPRESENTATIVE
        grant = await self.deps.make_token(
            TokenRequest(room=body.room, identity=identity, name=body.name, attributes=attributes)
        )
        return JSONResponse(
            {"token": grant.token, "url": grant.url, "agents": grant.agents, "identity": identity}
        )

    async def dial(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        try:
            body = _DialBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return _invalid(exc)
        if not self.deps.sip_outbound_trunk_id:
            return JSONResponse(
                {
                    "error": "no outbound SIP trunk configured: set "
                    "SWITCHBOARD_SIP_OUTBOUND_TRUNK_ID (or sip_outbound_trunk_id) to an outbound "
                    "trunk id (ST_...)"
                },
                status_code=503,
            )
        number = body.number.strip()
        if not _NUMBER.match(number):
            return JSONResponse(
                {"error": f"{number!r} is not a phone number (+15550100) or a SIP URI"}, 400
            )
        # The hand-off primitives load livekit.rtc, which only this route needs: imported here,
        # the webhook path (and an Azure Function's cold start) does without it.
        from switchboard.handoff import DialError, dial

        try:
            async with self.client() as lkapi:
                info = await dial(
                    lkapi,
                    trunk_id=self.deps.sip_outbound_trunk_id,
                    number=number,
                    room_name=body.room,
                    identity=f"sip_{_slug(number)}",
                    name=number,
                    deadline=60,
                )
        except DialError as exc:
            return JSONResponse({"error": str(exc), "type": type(exc).__name__}, status_code=502)
        return JSONResponse({"participant": info.participant_identity, "call_id": info.sip_call_id})

    async def state(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        return Response(await self.live.snapshot(), media_type="application/json")

    async def events(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for snapshot in self.live.subscribe():
                yield f"event: snapshot\ndata: {snapshot}\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def trace(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        room = request.path_params["room"]
        if not room or len(room) > 256:
            return JSONResponse({"error": "invalid room name"}, status_code=400)
        trace = await self.live.trace(room)
        if trace is None:
            return JSONResponse(
                {"error": "no store configured: the waterfall is rebuilt from the store"}, 503
            )
        if not trace["lanes"]:
            return JSONResponse({"error": f"nothing recorded for room {room!r}", **trace}, 404)
        return JSONResponse(trace)

    async def rooms(self, request: Request) -> Response:
        if not self.authorized(request):
            return _auth.api_denied(self.deps.token_secret)
        async with self.client() as lkapi:
            listed = await lkapi.room.list_rooms(api.ListRoomsRequest())
        return JSONResponse(
            {
                "rooms": sorted(r.name for r in listed.rooms),
                "dial": bool(self.deps.sip_outbound_trunk_id),
            }
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9+_-]+", "-", text).strip("-")[:40] or "guest"


def _invalid(exc: ValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )
    return JSONResponse({"error": f"invalid request: {problems}"}, status_code=400)


def routes(deps: ConsoleDeps) -> list[BaseRoute]:
    """``/phone``, ``/console`` and their API under ``/console/``, for the service to mount."""
    console = Console(deps)
    return [
        Route("/phone", console.page, methods=["GET"]),
        Route("/console", console.page, methods=["GET"]),
        Route("/console/login", console.login_form, methods=["GET"]),
        Route("/console/login", console.login, methods=["POST"]),
        Route("/console/login/{token}", console.login_with_link, methods=["GET"]),
        Route("/console/api/login-link", console.new_login_link, methods=["POST"]),
        Route("/console/api/token", console.token, methods=["POST"]),
        Route("/console/api/dial", console.dial, methods=["POST"]),
        Route("/console/api/rooms", console.rooms, methods=["GET"]),
        Route("/console/api/state", console.state, methods=["GET"]),
        Route("/console/api/events", console.events, methods=["GET"]),
        Route("/console/api/calls/{room:path}/trace", console.trace, methods=["GET"]),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
