"""Join tokens whose ``RoomConfiguration.agents`` come from the rules (no webhook hop needed).

The one token builder: ``POST /token``, ``switchboard token``, the console's softphone and
``switchboard call``'s hidden listener all sign their tokens here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import timedelta

from livekit import api

from switchboard.rules import AgentDispatch, room_configuration

DEFAULT_TTL = timedelta(hours=6)


def join_token(
    api_key: str,
    api_secret: str,
    *,
    room: str,
    identity: str,
    agents: Sequence[AgentDispatch] = (),
    name: str = "",
    metadata: str = "",
    attributes: Mapping[str, str] | None = None,
    room_metadata: str = "",
    grants: api.VideoGrants | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """A JWT to join ``room`` as ``identity``; ``agents`` (and ``room_metadata``) go in its room
    configuration, which the server applies when this join creates the room.

    ``grants`` narrows what the participant may do (e.g. ``hidden``, ``can_publish=False``);
    the room and ``room_join`` are always this token's.
    """
    video = dataclasses.replace(grants or api.VideoGrants(), room_join=True, room=room)
    builder = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_metadata(metadata)
        .with_attributes(dict(attributes or {}))
        .with_ttl(ttl)
        .with_grants(video)
    )
    if agents or room_metadata:
        config = room_configuration(agents)
        config.metadata = room_metadata
        builder = builder.with_room_config(config)
    token: str = builder.to_jwt()
    return token
