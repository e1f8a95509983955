"""A TCP proxy on loopback that can stop forwarding: a replica's link to LiveKit that hangs or
is down.

Until ``stall()`` it forwards every connection to the target; after it, bytes in flight and new
connections go nowhere and nothing is closed, so the client waits as it would on a partitioned
network (no error comes back before the client's own timeout). ``outage()`` instead closes every
connection and each new one at once (the client gets an error straight away, as from a service
that is down) until ``resume()``. It runs its own event loop on a thread, so a synchronous
fixture can start it before the process that uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Self

CHUNK = 65536
START_SECONDS = 10.0


class StallProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._stalled = False
        self._refusing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(START_SECONDS)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stall(self) -> None:
        self._stalled = True

    def outage(self) -> None:
        """Close every open connection, and each new one as it comes, until ``resume()``."""
        self._refusing = True
        asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop).result(START_SECONDS)

    def resume(self) -> None:
        """Forward new connections again (after ``outage()``)."""
        self._refusing = False

    def close(self) -> None:
        """Stop listening, drop every connection, and end the thread."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(START_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_SECONDS)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop_all()

    async def _drop_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.close()
            return
        if self._stalled:
            self._spawn(self._silence())  # open and silent; closed with the loop
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._spawn(self._pipe(reader, upstream_writer))
        self._spawn(self._pipe(upstream_reader, writer))

    def _spawn(self, work: Coroutine[object, object, None]) -> None:
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _silence(self) -> None:
        await asyncio.Event().wait()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(CHUNK):
                if self._stalled:
                    await self._silence()  # swallow: the peer hears nothing more
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                sink.close()
