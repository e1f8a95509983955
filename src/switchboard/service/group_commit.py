"""Group commit: writes that arrive while one is in flight are made together in the next.

Each caller still waits for its own write to be durable before it goes on; a burst just shares
transactions (SQLite has one writer, and a commit costs more than a row). The intake records
webhooks this way, the dispatcher its jobs' completions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Generic, TypeVar

from switchboard.store import Completion, Job, NewWebhook, Store

MAX_BATCH: Final = 100

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """``await submit(item)``: the item's result once the batch holding it was written."""

    def __init__(
        self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], name: str
    ) -> None:
        self._write_batch = write
        self._name = name
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._writer.get_loop() is not loop:
            # A host that runs each request in a loop of its own (an Azure Function may):
            # what the old loop left is unreachable from this one.
            self._writer, self._waiting = None, []
        answer: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, answer))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name=self._name)
        # Shielded: a caller that went away (a client, a cancelled task) still gets its write.
        return await asyncio.shield(answer)

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await self._write_batch([item for item, _ in batch])
            except Exception as exc:
                # Every caller of the batch fails with the store's error; none was written.
                for _, answer in batch:
                    answer.set_exception(exc)
                continue
            for (_, answer), result in zip(batch, results, strict=True):
                answer.set_result(result)


class GroupCommit(Batcher[NewWebhook, bool]):
    """``await record(webhook)``: True if recorded, False if its event id already was."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.record_webhooks, "switchboard-intake-writer")

    async def record(self, webhook: NewWebhook) -> bool:
        return await self.submit(webhook)


class CompletionCommit(Batcher[Completion, bool]):
    """``await complete(job, outcome, answer)``: the job is marked succeeded when it returns
    (False if it already was); raises the store's error, marking nothing, when the batch fails.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store.complete_jobs, "switchboard-completion-writer")

    async def complete(self, job: Job, outcome: str, server_answer: Mapping[str, Any]) -> bool:
        return await self.submit(Completion(job, outcome, server_answer))
