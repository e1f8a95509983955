"""Watching the byo call flow's rooms from outside, through the server API."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from livekit import api

AGENT = api.ParticipantInfo.Kind.AGENT
POLL_FAILURES = (api.TwirpError, aiohttp.ClientError, TimeoutError)
"""What one poll may meet on a loaded server; the watch goes on (before, any but a TwirpError
ended its task silently and left the test reading a stale picture)."""


class RoomsWatch:
    """Polls every room: which agents joined (by ``lk.agent_name``, "" = none: an unnamed
    worker's job, or an agent that joined with a token of its own) and which dispatches the
    server held."""

    def __init__(self, lkapi: api.LiveKitAPI) -> None:
        self.lkapi = lkapi
        self.agents: dict[str, set[str]] = {}
        self.agent_identities: dict[str, set[str]] = {}
        self.dispatches: dict[str, set[str]] = {}
        self._rounds = 0
        self._round_done = asyncio.Condition()
        self._task = asyncio.create_task(self._run())

    def rooms(self, prefix: str) -> list[str]:
        return sorted(room for room in self.dispatches if room.startswith(prefix))

    async def caught_up(self, timeout: float = 20) -> None:
        """Wait until a whole round of polls has started after this call.

        What a test saw a moment ago (an agent in a room) is then in ``agents``; without this
        the round under way may have read that room just before the agent joined.
        """
        target = self._rounds + 2
        async with asyncio.timeout(timeout), self._round_done:
            await self._round_done.wait_for(lambda: self._rounds >= target)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(*POLL_FAILURES):
                rooms = await self.lkapi.room.list_rooms(api.ListRoomsRequest())
                for room in rooms.rooms:
                    await self._look(room.name)
            async with self._round_done:
                self._rounds += 1
                self._round_done.notify_all()
            await asyncio.sleep(0.2)

    async def _look(self, room: str) -> None:
        with contextlib.suppress(*POLL_FAILURES):
            dispatches = await self.lkapi.agent_dispatch.list_dispatch(room_name=room)
            self.dispatches.setdefault(room, set()).update(d.agent_name for d in dispatches)
            people = await self.lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
            for p in people.participants:
                if p.kind == AGENT:
                    self.agents.setdefault(room, set()).add(p.attributes.get("lk.agent_name", ""))
                    self.agent_identities.setdefault(room, set()).add(p.identity)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def end_calls(lkapi: api.LiveKitAPI, rooms: list[str]) -> None:
    """End a test's calls while its phones still answer BYE: livekit-sip retransmits an
    unanswered BYE for half a minute, into the next test's phone on the same port."""
    for room in rooms:
        with contextlib.suppress(api.TwirpError):
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
    await asyncio.sleep(1)
