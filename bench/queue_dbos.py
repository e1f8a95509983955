"""The DBOS half of bench/bench_queue_store.py, run by that script in a throw-away venv.

Run only by the parent, once per scenario: ``/tmp/qdbos/bin/python bench/queue_dbos.py`` reads
one JSON line on stdin (``{"url", "consumers", "jobs", "rate"}``), launches DBOS with that fresh
database as its system database and a queue with ``worker_concurrency=consumers`` (DBOS's
default polling interval), prints ``{"ready": true}``, waits for ``go`` on stdin, then one
producer enqueues ``jobs`` no-op workflows one ``enqueue_async`` at a time, as fast as it can
(``rate`` 0) or paced at ``rate`` per second; prints the result as one JSON line. A job is
*claimed* when its workflow starts, *done* when DBOS has marked it ``SUCCESS``. Standard library,
DBOS and psycopg only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from importlib.metadata import version
from typing import Any

import psycopg  # type: ignore[import-not-found]
from dbos import DBOS, DBOSConfig  # type: ignore[import-not-found]

DONE_POLL_SECONDS = 0.005
SCENARIO_TIMEOUT_SECONDS = 90.0
QUEUE = "bench"

claimed: dict[int, float] = {}


@DBOS.workflow()  # type: ignore[untyped-decorator]
async def noop(key: int) -> None:
    claimed[key] = time.perf_counter()


async def run_scenario(url: str, consumers: int, jobs: int, rate: float) -> dict[str, Any]:
    """Enqueue ``jobs`` no-op workflows while this executor runs them; the timings of each."""
    queue = await DBOS.register_queue_async(QUEUE, worker_concurrency=consumers or None)
    await asyncio.sleep(0.5)
    print(json.dumps({"ready": True}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    enqueued: dict[int, float] = {}
    cpu_start, started = time.process_time(), time.perf_counter()
    for key in range(jobs):
        if rate:
            await asyncio.sleep(max(0.0, started + key / rate - time.perf_counter()))
        await queue.enqueue_async(noop, key)
        enqueued[key] = time.perf_counter()
    enqueue_seconds = time.perf_counter() - started
    deadline = started + SCENARIO_TIMEOUT_SECONDS
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        while time.perf_counter() < deadline:
            cursor = await connection.execute(
                "SELECT count(*) FROM dbos.workflow_status "
                "WHERE queue_name = %s AND status = 'SUCCESS'",
                (QUEUE,),
            )
            row = await cursor.fetchone()
            if row is not None and row[0] >= jobs:
                break
            await asyncio.sleep(DONE_POLL_SECONDS)
        else:
            raise TimeoutError(f"{jobs} workflows not all done after {SCENARIO_TIMEOUT_SECONDS} s")
    seconds = time.perf_counter() - started
    return {
        "jobs": jobs,
        "seconds": seconds,
        "enqueue_seconds": enqueue_seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "latencies": [claimed[key] - enqueued[key] for key in range(jobs)],
        "version": version("dbos"),
    }


def main() -> None:
    scenario = json.loads(sys.stdin.readline())
    config: DBOSConfig = {
        "name": "bench",
        "system_database_url": scenario["url"],
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()
    try:
        result = asyncio.run(
            run_scenario(scenario["url"], scenario["consumers"], scenario["jobs"], scenario["rate"])
        )
    finally:
        DBOS.destroy()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
