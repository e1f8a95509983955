"""An HTTP hop between livekit-server and one webhook handler that can lose answers.

Every delivery is passed on to the handler. With ``fail_fraction`` set, that share of first
deliveries (chosen with a seeded random, one event id at a time) is answered 502 to LiveKit
*after* the handler has answered: the handler acted, but its answer was lost on the way back,
as behind a gateway that timed out. LiveKit then delivers the same event again. A handler that is
down (refused, reset) is answered 502 too, as a load balancer would. It runs its own event loop
on a thread, beside the benchmark's.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from dataclasses import dataclass
from typing import Self

import aiohttp
from aiohttp import web

START_SECONDS = 10.0
FORWARDED_HEADERS = ("Authorization", "Content-Type")


@dataclass
class FaultCounts:
    """What the hop did since the last ``reset``."""

    delivered: int = 0
    answer_lost: int = 0
    handler_down: int = 0


class WebhookFaults:
    def __init__(self, handler_url: str, seed: int) -> None:
        self._handler_url = handler_url
        self._random = random.Random(seed)
        self._failed: set[str] = set()
        self.fail_fraction = 0.0
        self.counts = FaultCounts()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(START_SECONDS)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/livekit/webhook"

    def reset(self, fail_fraction: float = 0.0) -> None:
        """Count from zero, losing ``fail_fraction`` of first deliveries from now on."""
        self.fail_fraction = fail_fraction
        self.counts = FaultCounts()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(START_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_SECONDS)
        self._loop.close()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_post("/livekit/webhook", self._deliver)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _deliver(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: request.headers[k] for k in FORWARDED_HEADERS if k in request.headers}
        self.counts.delivered += 1
        try:
            async with self._session.post(self._handler_url, data=body, headers=headers) as reply:
                answer, status = await reply.read(), reply.status
        except (aiohttp.ClientError, TimeoutError):
            self.counts.handler_down += 1
            return web.Response(status=502, text="handler unreachable")
        event_id = str(json.loads(body).get("id", ""))
        if event_id not in self._failed and self._random.random() < self.fail_fraction:
            self._failed.add(event_id)
            self.counts.answer_lost += 1
            return web.Response(status=502, text="answer lost")
        return web.Response(status=status, body=answer, content_type="application/json")
