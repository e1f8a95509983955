"""Real rtc participants (the livekit Python SDK) joining a real stack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from livekit import api, rtc

from switchboard.stack.stack import Stack


def token(
    stack: Stack,
    room: str,
    identity: str,
    *,
    agents: list[str] | None = None,
    metadata: str = "",
    attributes: dict[str, str] | None = None,
) -> str:
    grant = api.VideoGrants(room_join=True, room=room)
    builder = (
        api.AccessToken(stack.config.api_key, stack.config.api_secret)
        .with_identity(identity)
        .with_grants(grant)
        .with_metadata(metadata)
        .with_attributes(attributes or {})
    )
    if agents is not None:
        builder = builder.with_room_config(
            api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=a) for a in agents])
        )
    return builder.to_jwt()


async def join(stack: Stack, room: str, identity: str, **kwargs: object) -> rtc.Room:
    """Connect a human (STANDARD) participant to ``room``."""
    jwt = token(stack, room, identity, **kwargs)  # type: ignore[arg-type]
    client = rtc.Room()
    await client.connect(stack.config.url, jwt)
    return client


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 15.0, interval: float = 0.2
) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def agent_names_in_room(lkapi: api.LiveKitAPI, room: str) -> list[str]:
    """Agent participants in ``room`` by probe label ('unnamed', or 'not-ready' while joining)."""
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return sorted(
        p.attributes.get("probe.label", "not-ready")
        for p in response.participants
        if p.kind == api.ParticipantInfo.Kind.AGENT
    )
