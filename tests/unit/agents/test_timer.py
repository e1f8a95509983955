"""The agents' one-shot timers (answer timeout, DTMF pause, transfer deadline)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from switchboard.agents.conversation import Timer


async def test_fires_once_after_the_delay() -> None:
    fired: list[str] = []
    timer = Timer()

    async def callback() -> None:
        fired.append("x")

    timer.arm(0.01, callback)
    await asyncio.sleep(0.05)
    assert fired == ["x"]


async def test_rearming_replaces_the_pending_callback() -> None:
    fired: list[str] = []
    timer = Timer()

    def record(label: str) -> Callable[[], Awaitable[None]]:
        async def callback() -> None:
            fired.append(label)

        return callback

    timer.arm(0.02, record("first"))
    timer.arm(0.02, record("second"))
    await asyncio.sleep(0.06)
    assert fired == ["second"]


async def test_cancel_stops_it() -> None:
    fired: list[str] = []
    timer = Timer()

    async def callback() -> None:
        fired.append("x")

    timer.arm(0.01, callback)
    timer.cancel()
    await asyncio.sleep(0.03)
    assert fired == []


async def test_a_callback_may_rearm_its_own_timer() -> None:
    started: list[int] = []
    finished: list[int] = []
    timer = Timer()

    async def callback() -> None:
        run = len(started)
        started.append(run)
        if run < 2:
            timer.arm(0.005, callback)  # must not cancel the callback that is running
        await asyncio.sleep(0.001)
        finished.append(run)

    timer.arm(0.005, callback)
    await asyncio.sleep(0.1)
    assert started == [0, 1, 2]
    assert finished == [0, 1, 2]
