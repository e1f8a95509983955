"""Rooms that start with exactly the named agent in them (no unnamed agent can slip in)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livekit import api

from switchboard.handoff.errors import RoomSetupError, twirp_detail

logger = logging.getLogger("switchboard.handoff")


@dataclass(frozen=True, slots=True)
class AgentRoom:
    """The room and the named agent's dispatch in it; ``created_*`` say what this call made."""

    room: api.Room
    dispatch: api.AgentDispatch
    created_room: bool
    created_dispatch: bool


def dispatch_metadata(metadata: str | Mapping[str, Any]) -> str:
    """Job metadata as the agent receives it: strings pass through, mappings become JSON."""
    if isinstance(metadata, str):
        return metadata
    return json.dumps(dict(metadata), separators=(",", ":"), sort_keys=True)


async def start_agent_room(
    lkapi: api.LiveKitAPI,
    room_name: str,
    agent_name: str,
    metadata: str | Mapping[str, Any] = "",
    empty_timeout: int = 0,
    departure_timeout: int = 0,
) -> AgentRoom:
    """Create ``room_name`` with ``agent_name`` dispatched in it, or add the dispatch if missing.

    A new room is created by ``CreateRoom(agents=[...])`` before anything joins, so the server
    never adds its automatic (unnamed) dispatch. An existing room only gets ``CreateDispatch``,
    and only when no dispatch of ``agent_name`` is there yet, so calling this twice is safe.
    Timeouts are seconds; 0 keeps the server's defaults.
    """
    if not agent_name:
        raise RoomSetupError(
            "start_agent_room needs an agent_name: an empty name is the automatic dispatch, "
            "which would send every unnamed worker into the room. Name the agent "
            "(@server.rtc_session(agent_name=...)) and pass that name."
        )
    meta = dispatch_metadata(metadata)
    try:
        listed = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room_name]))
        existing = next((r for r in listed.rooms if r.name == room_name), None)
        if existing is None:
            room = await lkapi.room.create_room(
                api.CreateRoomRequest(
                    name=room_name,
                    empty_timeout=empty_timeout,
                    departure_timeout=departure_timeout,
                    agents=[api.RoomAgentDispatch(agent_name=agent_name, metadata=meta)],
                )
            )
        else:
            room = existing
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name)
        dispatch = next((d for d in dispatches if d.agent_name == agent_name), None)
        if dispatch is not None:
            return AgentRoom(room, dispatch, existing is None, existing is None)
        # Reached for an existing room, or when a concurrent creator won the race and the
        # server kept its room (CreateRoom on a live room ignores our agents list).
        dispatch = await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=meta)
        )
    except api.TwirpError as exc:
        raise RoomSetupError(
            f"could not start agent {agent_name!r} in room {room_name!r}: "
            f"{twirp_detail(exc)}. Fix: check LIVEKIT_URL, LIVEKIT_API_KEY and "
            f"LIVEKIT_API_SECRET point at this project and the key has roomCreate/roomAdmin."
        ) from exc
    logger.info(
        "agent dispatched",
        extra={"room": room_name, "agent_name": agent_name, "dispatch_id": dispatch.id},
    )
    return AgentRoom(room, dispatch, existing is None, True)
