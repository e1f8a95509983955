"""An in-process stand-in for livekit-server's Twirp API (rooms, dispatch, SIP dialing).

The real SDK client talks to it over HTTP, so requests and errors go through the same code
paths as against a real server. It keeps the server semantics the handoff code relies on:
a room created without agents gets the implicit unnamed dispatch, CreateRoom on a live room
returns it unchanged, CreateDispatch adds one dispatch.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from google.protobuf.message import Message
from livekit import api

SipHandler = Callable[[api.CreateSIPParticipantRequest], Awaitable[web.Response | Message]]


def twirp_error(
    code: str, msg: str, status: int, meta: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, object] = {"code": code, "msg": msg}
    if meta:
        body["meta"] = meta
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


@dataclass
class FakeLiveKit:
    rooms: dict[str, api.Room] = field(default_factory=dict)
    dispatches: dict[str, list[api.AgentDispatch]] = field(default_factory=dict)
    calls: list[tuple[str, Message]] = field(default_factory=list)
    sip_handler: SipHandler | None = None
    fail_with: web.Response | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _runner: web.AppRunner | None = None
    url: str = ""

    def methods(self, name: str) -> list[Message]:
        return [request for method, request in self.calls if method == name]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/twirp/livekit.{service}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def client(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.url, "devkey", "secret-secret-secret-secret-secret")

    def create_bare_room(self, name: str) -> None:
        """A room as a participant's token join creates it: implicit unnamed dispatch."""
        self._new_room(api.CreateRoomRequest(name=name))

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        if self.fail_with is not None:
            return self.fail_with
        handler = getattr(self, f"_{method}")
        result = await handler(body)
        if isinstance(result, web.Response):
            return result
        return web.Response(body=result.SerializeToString(), content_type="application/protobuf")

    def _new_room(self, req: api.CreateRoomRequest) -> api.Room:
        room = api.Room(
            sid=f"RM_{next(self._ids)}",
            name=req.name,
            empty_timeout=req.empty_timeout,
            departure_timeout=req.departure_timeout,
        )
        self.rooms[req.name] = room
        agents = list(req.agents) or [api.RoomAgentDispatch()]
        self.dispatches[req.name] = [
            api.AgentDispatch(
                id=f"AD_{next(self._ids)}",
                agent_name=a.agent_name,
                room=req.name,
                metadata=a.metadata,
            )
            for a in agents
        ]
        return room

    async def _ListRooms(self, body: bytes) -> Message:
        req = api.ListRoomsRequest.FromString(body)
        self.calls.append(("ListRooms", req))
        names = set(req.names) or set(self.rooms)
        return api.ListRoomsResponse(rooms=[r for n, r in self.rooms.items() if n in names])

    async def _CreateRoom(self, body: bytes) -> Message:
        req = api.CreateRoomRequest.FromString(body)
        self.calls.append(("CreateRoom", req))
        return self.rooms.get(req.name) or self._new_room(req)

    async def _ListDispatch(self, body: bytes) -> Message:
        req = api.ListAgentDispatchRequest.FromString(body)
        self.calls.append(("ListDispatch", req))
        return api.ListAgentDispatchResponse(agent_dispatches=self.dispatches.get(req.room, []))

    async def _CreateDispatch(self, body: bytes) -> Message:
        req = api.CreateAgentDispatchRequest.FromString(body)
        self.calls.append(("CreateDispatch", req))
        if req.room not in self.rooms:
            self.create_bare_room(req.room)  # auto_create, as livekit-server >= 1.8.2 does
        dispatch = api.AgentDispatch(
            id=f"AD_{next(self._ids)}", agent_name=req.agent_name, room=req.room,
            metadata=req.metadata,
        )  # fmt: skip
        self.dispatches[req.room].append(dispatch)
        return dispatch

    async def _CreateSIPParticipant(self, body: bytes) -> web.Response | Message:
        req = api.CreateSIPParticipantRequest.FromString(body)
        self.calls.append(("CreateSIPParticipant", req))
        if self.sip_handler is not None:
            return await self.sip_handler(req)
        return api.SIPParticipantInfo(
            participant_id="PA_1",
            participant_identity=req.participant_identity,
            room_name=req.room_name,
            sip_call_id="SCL_1",
        )


async def never_answers(_req: api.CreateSIPParticipantRequest) -> Message:
    await asyncio.sleep(60)
    return api.SIPParticipantInfo()
