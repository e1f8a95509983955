"""Group commit: concurrent submissions share writes; a failed write fails each of its callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from switchboard.service.group_commit import Batcher


class Ledger:
    """A write that takes a moment, like a commit, and records each batch it was given."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def write(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)
        if self.fail_on is not None and self.fail_on in items:
            raise RuntimeError("the database went away")
        return [item * 10 for item in items]


async def test_submissions_during_a_write_share_the_next_and_get_their_own_results() -> None:
    ledger = Ledger()
    batcher = Batcher(ledger.write, "test-writer")

    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))

    assert results == [i * 10 for i in range(20)]
    assert sorted(i for batch in ledger.batches for i in batch) == list(range(20))
    assert len(ledger.batches) < 20


async def test_a_failed_write_fails_every_caller_of_that_batch_only() -> None:
    ledger = Ledger(fail_on=0)
    batcher = Batcher(ledger.write, "test-writer")
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0)  # the writer takes 0 alone; the next arrive during its write
    rest = asyncio.gather(*(batcher.submit(i) for i in (1, 2)), return_exceptions=True)

    with pytest.raises(RuntimeError, match="went away"):
        await first
    assert await rest == [10, 20]
    assert ledger.batches == [[0], [1, 2]]


async def test_a_batch_holding_the_failure_fails_all_of_its_callers() -> None:
    ledger = Ledger(fail_on=3)
    batcher = Batcher(ledger.write, "test-writer")

    results = await asyncio.gather(*(batcher.submit(i) for i in (3, 4, 5)), return_exceptions=True)

    assert ledger.batches == [[3, 4, 5]]
    assert all(isinstance(result, RuntimeError) for result in results)
