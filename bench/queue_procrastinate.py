"""The procrastinate half of bench/bench_queue_store.py, run by that script in a throw-away venv.

Run only by the parent, once per scenario: ``/tmp/qlib/bin/python bench/queue_procrastinate.py``
reads one JSON line on stdin (``{"url", "consumers", "jobs", "rate", "backlog"}``), applies
procrastinate's schema to that fresh database, starts a worker with ``concurrency=consumers``
and prints ``{"ready": true}``; on ``go`` (a line on stdin) one producer defers ``jobs`` no-op
tasks one ``defer_async`` (one transaction) at a time, as fast as it can (``rate`` 0) or paced
at ``rate`` per second; prints the result as one JSON line. With ``backlog`` every job is
deferred first, in batches of 100, and the worker starts on ``go``. A job is *claimed* when its
task starts, *done* when procrastinate has marked it succeeded. Standard library and
procrastinate only: this interpreter has neither Switchboard nor its test helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from typing import Any

import procrastinate  # type: ignore[import-not-found]

DONE_POLL_SECONDS = 0.005
SCENARIO_TIMEOUT_SECONDS = 90.0
BACKLOG_BATCH = 100


async def run_scenario(
    url: str, consumers: int, jobs: int, rate: float, backlog: bool
) -> dict[str, Any]:
    """Defer ``jobs`` no-op tasks while a worker runs them (with ``backlog``, all of them in
    batches before the worker starts); the timings of each."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    claimed: dict[int, float] = {}
    all_claimed = asyncio.Event()

    @app.task(name="noop")  # type: ignore[untyped-decorator]
    async def noop(key: int) -> None:
        claimed[key] = time.perf_counter()
        if len(claimed) == jobs:
            all_claimed.set()

    enqueued: dict[int, float] = {}

    def start_worker() -> asyncio.Task[None]:
        return asyncio.create_task(
            app.run_worker_async(concurrency=consumers, wait=True, install_signal_handlers=False)
        )

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        if backlog:
            for first in range(0, jobs, BACKLOG_BATCH):
                keys = range(first, min(jobs, first + BACKLOG_BATCH))
                await noop.batch_defer_async(*({"key": key} for key in keys))
                enqueued.update(dict.fromkeys(keys, time.perf_counter()))
        else:
            worker = start_worker()
            await asyncio.sleep(0.5)  # the worker registered and LISTENs before the first job
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        cpu_start, started = time.process_time(), time.perf_counter()
        if backlog:
            worker = start_worker()
        for key in range(jobs if backlog else 0, jobs):
            if rate:
                await asyncio.sleep(max(0.0, started + key / rate - time.perf_counter()))
            await noop.defer_async(key=key)
            enqueued[key] = time.perf_counter()
        enqueue_seconds = time.perf_counter() - started
        await asyncio.wait_for(all_claimed.wait(), SCENARIO_TIMEOUT_SECONDS)
        async with app.connector.pool.connection() as connection:
            while True:
                cursor = await connection.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
                )
                row = await cursor.fetchone()
                if row is not None and row[0] >= jobs:
                    break
                await asyncio.sleep(DONE_POLL_SECONDS)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_start
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    return {
        "jobs": jobs,
        "seconds": seconds,
        "enqueue_seconds": enqueue_seconds,
        "cpu_seconds": cpu_seconds,
        "latencies": [claimed[key] - enqueued[key] for key in range(jobs)],
    }


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # It warns that the App lives in __main__: harmless here, the worker runs in this process.
    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)
    scenario = json.loads(sys.stdin.readline())
    result = await run_scenario(
        scenario["url"],
        scenario["consumers"],
        scenario["jobs"],
        scenario["rate"],
        scenario["backlog"],
    )
    result["version"] = procrastinate.__version__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
