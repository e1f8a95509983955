"""Assertions shared by the service tests: which agents a room settles with."""

from __future__ import annotations

import asyncio

from livekit import api

from tests.support.participants import agent_names_in_room, eventually

SETTLE_SECONDS = 3.0


async def settled_agents(lkapi: api.LiveKitAPI, room: str, expected: list[str]) -> list[str]:
    """Agents in ``room`` once ``expected`` joined and a late extra would have shown up."""

    async def joined() -> bool:
        agents = await agent_names_in_room(lkapi, room)
        return len(agents) >= len(expected) and "not-ready" not in agents

    if expected:
        await eventually(joined, timeout=20)
    await asyncio.sleep(SETTLE_SECONDS)
    return await agent_names_in_room(lkapi, room)


async def dispatch_names(lkapi: api.LiveKitAPI, room: str) -> list[str]:
    dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
    return sorted(d.agent_name for d in dispatches)
