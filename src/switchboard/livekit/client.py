"""``LiveKitClient``: the few LiveKit API calls the service makes (rooms, dispatch, participants).

Every call raises ``LiveKitError`` (with ``retryable``) instead of livekit-api's exceptions, so
callers decide between retrying and dead-lettering without knowing aiohttp or Twirp.
"""

from __future__ import annotations

from collections.abc import Awaitable
from types import TracebackType
from typing import Self, TypeVar

import aiohttp
from livekit import api

from switchboard.livekit.errors import LiveKitError, translate
from switchboard.livekit.models import ParticipantState, RoomState, ServerDispatch

T = TypeVar("T")
DEFAULT_TIMEOUT_SECONDS = 5.0


class LiveKitClient:
    """A LiveKit server API client; create it inside the event loop that will use it."""

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        # failover=False: retries are ours (the dispatch queue), not the SDK's.
        self._api = api.LiveKitAPI(
            url,
            api_key,
            api_secret,
            timeout=aiohttp.ClientTimeout(total=timeout),
            failover=False,
        )

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._api.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def api(self) -> api.LiveKitAPI:
        """The underlying livekit-api client, for adapters in this package."""
        return self._api

    async def call(self, action: str, request: Awaitable[T]) -> T:
        """Await a livekit-api call, translating its failures into ``LiveKitError``."""
        try:
            return await request
        except LiveKitError:
            raise
        except Exception as exc:
            raise translate(exc, action, self.url) from exc

    async def get_room(self, name: str) -> RoomState | None:
        """The room called ``name``, or None when the server has no such room."""
        response = await self.call(
            f"ListRooms {name!r}", self._api.room.list_rooms(api.ListRoomsRequest(names=[name]))
        )
        rooms = [_room(room) for room in response.rooms if room.name == name]
        return rooms[0] if rooms else None

    async def list_rooms(self) -> list[RoomState]:
        """Every room open on the server."""
        response = await self.call("ListRooms", self._api.room.list_rooms(api.ListRoomsRequest()))
        return [_room(room) for room in response.rooms]

    async def list_dispatches(self, room: str) -> list[ServerDispatch]:
        """The agent dispatches the server holds for ``room``."""
        dispatches = await self.call(
            f"ListDispatch {room!r}", self._api.agent_dispatch.list_dispatch(room_name=room)
        )
        return [_dispatch(d) for d in dispatches]

    async def create_dispatch(self, room: str, agent: str, metadata: str) -> ServerDispatch:
        """Dispatch ``agent`` to ``room``. The room must exist: the server would otherwise
        create it with no agent list and dispatch the unnamed worker too."""
        request = api.CreateAgentDispatchRequest(agent_name=agent, room=room, metadata=metadata)
        created = await self.call(
            f"CreateDispatch {agent!r} to {room!r}",
            self._api.agent_dispatch.create_dispatch(request),
        )
        return _dispatch(created)

    async def delete_dispatch(self, dispatch_id: str, room: str) -> None:
        """Remove a dispatch (its running job, if any, is not stopped by the server)."""
        await self.call(
            f"DeleteDispatch {dispatch_id!r} in {room!r}",
            self._api.agent_dispatch.delete_dispatch(dispatch_id, room),
        )

    async def list_participants(self, room: str) -> list[ParticipantState]:
        """The participants of ``room``: kind, state, attributes and metadata."""
        response = await self.call(
            f"ListParticipants {room!r}",
            self._api.room.list_participants(api.ListParticipantsRequest(room=room)),
        )
        return [
            ParticipantState(
                identity=p.identity,
                kind=api.ParticipantInfo.Kind.Name(p.kind),
                state=api.ParticipantInfo.State.Name(p.state),
                sid=p.sid,
                name=p.name,
                metadata=p.metadata,
                attributes=dict(p.attributes),
                joined_at=p.joined_at,
            )
            for p in response.participants
        ]

    async def remove_participant(self, room: str, identity: str) -> None:
        """Disconnect ``identity`` from ``room``; for a SIP participant, hang up its call."""
        await self.call(
            f"RemoveParticipant {identity!r} from {room!r}",
            self._api.room.remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            ),
        )

    async def send_data(self, room: str, data: bytes, topic: str) -> None:
        """Send a reliable data packet to every participant of ``room`` on ``topic``."""
        request = api.SendDataRequest(
            room=room, data=data, kind=api.DataPacket.Kind.RELIABLE, topic=topic
        )
        await self.call(f"SendData to {room!r}", self._api.room.send_data(request))

    async def ping(self) -> None:
        """Raise ``LiveKitError`` unless the API answers an authenticated request."""
        await self.call(
            "ListRooms (readiness)",
            self._api.room.list_rooms(api.ListRoomsRequest(names=["switchboard-readyz"])),
        )


def _room(room: api.Room) -> RoomState:
    return RoomState(
        name=room.name,
        sid=room.sid,
        metadata=room.metadata,
        num_participants=room.num_participants,
        creation_time=room.creation_time,
    )


def _dispatch(dispatch: api.AgentDispatch) -> ServerDispatch:
    return ServerDispatch(
        dispatch_id=dispatch.id,
        agent_name=dispatch.agent_name,
        room=dispatch.room,
        metadata=dispatch.metadata,
        jobs=len(dispatch.state.jobs),
        created_at_ns=dispatch.state.created_at,
    )
