"""Group commit for the intake: webhooks that arrive while a write is in flight are recorded
together in the next one.

Each request still waits for its own webhook to be durable before it is answered; a burst
just shares transactions (SQLite has one writer, and a commit costs more than a row).
"""

from __future__ import annotations

import asyncio
from typing import Final

from switchboard.store import NewWebhook, Store

MAX_BATCH: Final = 100


class GroupCommit:
    """``await record(webhook)``: True if recorded, False if its event id already was."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: list[tuple[NewWebhook, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, webhook: NewWebhook) -> bool:
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._writer.get_loop() is not loop:
            # A host that runs each request in a loop of its own (an Azure Function may):
            # what the old loop left is unreachable from this one.
            self._writer, self._waiting = None, []
        answer: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((webhook, answer))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="switchboard-intake-writer")
        # Shielded: a request whose client went away still gets its webhook recorded.
        return await asyncio.shield(answer)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await self._store.record_webhooks([webhook for webhook, _ in batch])
            except Exception as exc:
                # Every request of the batch fails with the store's error (503: retried).
                for _, answer in batch:
                    answer.set_exception(exc)
                continue
            for (_, answer), recorded in zip(batch, results, strict=True):
                answer.set_result(recorded)
