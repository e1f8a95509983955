"""Benchmark: Switchboard's own durable queue against procrastinate (and DBOS), on one PostgreSQL.

Run: ``.venv/bin/python bench/bench_queue_store.py --procrastinate-python /tmp/qlib/bin/python
[--dbos-python /tmp/qdbos/bin/python] [--jobs 2000] [--readme]``. The libraries live in
throw-away venvs, never in the project's (``python3 -m venv /tmp/qlib && /tmp/qlib/bin/pip
install procrastinate 'psycopg[binary]'``, the same with ``dbos`` in /tmp/qdbos); a library
whose python is not given is skipped with a message. One throw-away PostgreSQL (the store
tests' ``pg_server.py``, loopback only) serves every row, each on a fresh database; the queues
take turns, so the shared machine's load falls on each alike. About 4 minutes.

Per queue and number of consumers:
- **backlog**: ``--jobs`` jobs enqueued in batches of 100 before the consumers start; jobs/s =
  jobs / (consumers start → last job done): what claiming and completing alone sustain.
- **burst**: one producer enqueues ``--jobs`` jobs one transaction each, as fast as it can,
  while the consumers run; jobs/s = jobs / (first enqueue → last job done).
- **steady**: ``--steady-jobs`` paced at ``--steady-rate`` per second, below every queue's
  capacity: the pickup latency when nothing is waiting.

Switchboard: the enqueue is the intake's ``record_webhooks`` (event, decision and its job in one
transaction; a backlog batch is one transaction, as the intake group-commits a burst); a
consumer is the dispatcher's loop (``claim_due_jobs`` of up to ``dispatch_concurrency`` jobs with
a lease, then ``complete_job`` for each, concurrently, a no-op in place of the three LiveKit
calls) on its own ``Store``, like a replica. Webhook n reaches replica n mod consumers, which
wakes its own consumer, as the intake wakes its dispatcher; the others poll. *polling*: nobody
is woken (a replica that did not take the webhook finds the job on its ``poll_interval``).
*pool 5*: the baseline rows, the consumers' stores with SQLAlchemy's default pool of 5 (plus
10 opened and closed on demand), the store's pool until it kept ``STORE_POOL_SIZE`` (40).
procrastinate (bench/queue_procrastinate.py): ``defer_async`` of a no-op task, one worker with
``concurrency=consumers``, woken by LISTEN/NOTIFY. DBOS (bench/queue_dbos.py): a no-op workflow
enqueued on a queue with DBOS's defaults (no concurrency limit, polled every second).

Latency is enqueue committed → claimed (the claim returned the job; the task or workflow
started). CPU per job: the client process's (producer and consumers together) and PostgreSQL's
(the postmaster and all its backends).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import table

from switchboard.defaults import STORE_POOL_SIZE
from switchboard.settings import Settings
from switchboard.store import Job, NewDecision, NewWebhook, Store
from tests.integration.store.pg_server import PostgresServer


@dataclass(frozen=True)
class Library:
    """A queue library measured by its own script in its own venv."""

    name: str
    script: Path
    install: str

    def skipped(self) -> str:
        return (
            f"{self.name} skipped: pass --{self.name}-python PATH, the python of a venv with it "
            f"(e.g. {self.install})"
        )


PROCRASTINATE: Final = Library(
    "procrastinate",
    Path(__file__).resolve().with_name("queue_procrastinate.py"),
    "python3 -m venv /tmp/qlib && /tmp/qlib/bin/pip install procrastinate 'psycopg[binary]'",
)
DBOS: Final = Library(
    "dbos",
    Path(__file__).resolve().with_name("queue_dbos.py"),
    "python3 -m venv /tmp/qdbos && /tmp/qdbos/bin/pip install dbos 'psycopg[binary]'",
)
SECTION: Final = "## Durable queue: our store, procrastinate, DBOS (bench/bench_queue_store.py)"
SCENARIO_TIMEOUT_SECONDS: Final = 90.0
SETTINGS: Final = Settings()
BACKLOG_BATCH: Final = 100  # webhooks per transaction, as the intake group-commits a burst
BASELINE_POOL: Final = 5  # SQLAlchemy's default: a claim's 32 completions churn connections
NO_LIMIT: Final = 0  # DBOS: no per-executor concurrency limit (its default)


@dataclass(frozen=True)
class Scenario:
    """``jobs`` enqueued one transaction each, as fast as possible (``rate`` 0) or paced; or,
    with ``backlog``, all enqueued in batches before the consumers start."""

    name: str
    jobs: int
    rate: float = 0.0
    backlog: bool = False

    def __str__(self) -> str:
        paced = f" at {self.rate:g}/s" if self.rate else ""
        return f"{self.name} ({self.jobs:,}{paced})"


@dataclass
class Result:
    """One scenario's figures."""

    queue: str
    consumers: int
    scenario: Scenario
    seconds: float
    enqueue_seconds: float
    client_cpu_seconds: float
    database_cpu_seconds: float
    latencies: list[float] = field(repr=False)

    @property
    def jobs_per_second(self) -> float:
        return self.scenario.jobs / self.seconds

    @property
    def enqueues_per_second(self) -> float:
        return self.scenario.jobs / self.enqueue_seconds

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def cpu_ms_per_job(self, seconds: float) -> float:
        return seconds * 1000 / self.scenario.jobs


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def postgres_cpu_seconds(server: PostgresServer) -> float:
    """CPU time of the postmaster, its live backends and the backends that already exited."""
    process = server._process  # the postmaster: the bench's own child
    assert process is not None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the backend exited meanwhile; its time moves to the postmaster's
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == process.pid:
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        elif parent == process.pid:
            total += sum(int(value) for value in fields[11:13])
    return total / ticks


class Tracker:
    """When each job was enqueued, claimed and done; wakes the consumers."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.enqueued: dict[str, float] = {}
        self.claimed: dict[str, float] = {}
        self.done_count = 0
        self.all_done = asyncio.Event()
        self.wakes: list[asyncio.Event] = []

    def done(self) -> None:
        self.done_count += 1
        if self.done_count == self.jobs:
            self.all_done.set()


async def consume(
    store: Store, worker_id: str, tracker: Tracker, wake: asyncio.Event | None
) -> None:
    """The dispatcher's loop (service/dispatcher.py) with a no-op in place of the LiveKit calls."""

    async def finish(job: Job) -> None:
        await store.complete_job(job, "dispatched", {})
        tracker.done()

    while True:
        while True:
            jobs = await store.claim_due_jobs(
                worker_id,
                limit=SETTINGS.dispatch_concurrency,
                lease_seconds=SETTINGS.lease_seconds,
                max_attempts=SETTINGS.max_attempts,
            )
            if not jobs:
                break
            now = time.perf_counter()
            for job in jobs:
                tracker.claimed[job.room_name] = now
            await asyncio.gather(*(finish(job) for job in jobs))
        if wake is None:
            await asyncio.sleep(SETTINGS.poll_interval)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), SETTINGS.poll_interval)
            wake.clear()


def webhook(key: str) -> NewWebhook:
    """A decided room_started webhook whose decision queues one qualifier."""
    body = json.dumps({"event": "room_started", "id": key, "room": {"name": key, "sid": key}})
    decision = NewDecision("bench", [("qualifier", "{}")], {"rule": "bench"})
    return NewWebhook(key, "room_started", key, f"RM_{key}", body, decision=decision)


async def run_switchboard(
    server: PostgresServer,
    consumers: int,
    scenario: Scenario,
    *,
    woken: bool = True,
    pool_size: int = STORE_POOL_SIZE,
) -> Result:
    """One scenario of Switchboard's store on a fresh database; ``pool_size``: the connections
    each consumer's store keeps (the store's own unless a baseline row asks for fewer)."""
    url = server.create_database(f"sb_{uuid.uuid4().hex[:10]}")
    producer = await Store.open(url)
    replicas = [await Store.open(url, pool_size=pool_size) for _ in range(consumers)]
    tracker = Tracker(scenario.jobs)
    wakes = [asyncio.Event() if woken else None for _ in replicas]
    tasks: list[asyncio.Task[None]] = []

    def start_consumers() -> None:
        tasks.extend(
            asyncio.create_task(consume(store, f"replica-{n}", tracker, wakes[n]))
            for n, store in enumerate(replicas)
        )

    try:
        if scenario.backlog:
            for first in range(0, scenario.jobs, BACKLOG_BATCH):
                keys = [f"job-{n}" for n in range(first, min(scenario.jobs, first + BACKLOG_BATCH))]
                await producer.record_webhooks([webhook(key) for key in keys])
                tracker.enqueued.update(dict.fromkeys(keys, time.perf_counter()))
        else:
            start_consumers()
            await asyncio.sleep(0.2)
        database_cpu, cpu_start = postgres_cpu_seconds(server), time.process_time()
        started = time.perf_counter()
        if scenario.backlog:
            start_consumers()
        for n in range(scenario.jobs if scenario.backlog else 0, scenario.jobs):
            if scenario.rate:
                await asyncio.sleep(max(0.0, started + n / scenario.rate - time.perf_counter()))
            key = f"job-{n}"
            await producer.record_webhooks([webhook(key)])
            tracker.enqueued[key] = time.perf_counter()
            # The webhook reached one replica, which wakes its own dispatcher; the others poll.
            if (wake := wakes[n % consumers]) is not None:
                wake.set()
        enqueue_seconds = time.perf_counter() - started
        await asyncio.wait_for(tracker.all_done.wait(), SCENARIO_TIMEOUT_SECONDS)
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_start
        database_cpu = postgres_cpu_seconds(server) - database_cpu
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for store in [producer, *replicas]:
            await store.close()
    return Result(
        queue=(
            f"switchboard, pool {pool_size}"
            if pool_size != STORE_POOL_SIZE
            else ("switchboard" if woken else "switchboard, polling")
        ),
        consumers=consumers,
        scenario=scenario,
        seconds=seconds,
        enqueue_seconds=enqueue_seconds,
        client_cpu_seconds=client_cpu,
        database_cpu_seconds=database_cpu,
        latencies=[tracker.claimed[key] - tracker.enqueued[key] for key in tracker.enqueued],
    )


async def run_library(
    server: PostgresServer, library: Library, python: str, consumers: int, scenario: Scenario
) -> tuple[Result, str]:
    """One scenario in the library's venv; its result and the library's version."""
    name = f"{library.name}_{uuid.uuid4().hex[:10]}"
    server.create_database(name)
    url = server.url(name).replace("postgresql+asyncpg://", "postgresql://")
    script = library.script.name
    child = await asyncio.create_subprocess_exec(
        python, str(library.script), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        request = {
            "url": url,
            "consumers": consumers,
            "jobs": scenario.jobs,
            "rate": scenario.rate,
            "backlog": scenario.backlog,
        }
        child.stdin.write(json.dumps(request).encode() + b"\n")  # stdin: no password in ps
        await child.stdin.drain()
        ready = await asyncio.wait_for(child.stdout.readline(), SCENARIO_TIMEOUT_SECONDS)
        if not ready:
            raise RuntimeError(f"{script} exited before it was ready (see its stderr above)")
        database_cpu = postgres_cpu_seconds(server)
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        line = await asyncio.wait_for(child.stdout.readline(), SCENARIO_TIMEOUT_SECONDS)
        database_cpu = postgres_cpu_seconds(server) - database_cpu
        if not line:
            raise RuntimeError(f"{script} exited without a result (see its stderr above)")
        await asyncio.wait_for(child.wait(), SCENARIO_TIMEOUT_SECONDS)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    raw = json.loads(line)
    result = Result(
        queue=library.name,
        consumers=consumers,
        scenario=scenario,
        seconds=float(raw["seconds"]),
        enqueue_seconds=float(raw["enqueue_seconds"]),
        client_cpu_seconds=float(raw["cpu_seconds"]),
        database_cpu_seconds=database_cpu,
        latencies=[float(value) for value in raw["latencies"]],
    )
    return result, str(raw["version"])


@dataclass(frozen=True)
class Plan:
    """What to run."""

    jobs: int
    consumers: tuple[int, ...]
    steady_jobs: int
    steady_rate: float
    procrastinate_python: str | None
    dbos_python: str | None

    @property
    def scenarios(self) -> tuple[Scenario, Scenario, Scenario]:
        """Backlog, burst, steady."""
        return (
            Scenario("backlog", self.jobs, backlog=True),
            Scenario("burst", self.jobs),
            Scenario("steady", self.steady_jobs, self.steady_rate),
        )


def report(result: Result) -> Result:
    """Print one line of progress and return the result."""
    print(
        f"{result.queue}, consumers {consumers_label(result)}, {result.scenario.name}: "
        f"{result.jobs_per_second:,.0f} jobs/s, p50 {result.latency_ms(50):.1f} ms",
        flush=True,
    )
    return result


async def run_all(server: PostgresServer, plan: Plan) -> tuple[list[Result], dict[str, str]]:
    """Every scenario, the queues taking turns (the shared machine's load hits each alike);
    and the version of each library that ran."""
    results: list[Result] = []
    versions: dict[str, str] = {}
    for consumers in plan.consumers:
        for scenario in plan.scenarios:
            results.append(report(await run_switchboard(server, consumers, scenario, woken=True)))
            if plan.procrastinate_python:
                result, versions[PROCRASTINATE.name] = await run_library(
                    server, PROCRASTINATE, plan.procrastinate_python, consumers, scenario
                )
                results.append(report(result))
    steady = plan.scenarios[2]
    results.append(report(await run_switchboard(server, 1, steady, woken=False)))
    backlog = plan.scenarios[0]
    for consumers in plan.consumers:
        baseline = await run_switchboard(server, consumers, backlog, pool_size=BASELINE_POOL)
        results.append(report(baseline))
    if plan.dbos_python:
        for scenario in plan.scenarios[1:]:  # no batch enqueue here: no backlog row
            result, versions[DBOS.name] = await run_library(
                server, DBOS, plan.dbos_python, NO_LIMIT, scenario
            )
            results.append(report(result))
    for library, python in [(PROCRASTINATE, plan.procrastinate_python), (DBOS, plan.dbos_python)]:
        if not python:
            print(library.skipped(), flush=True)
    return results, versions


def consumers_label(result: Result) -> str:
    """How many consumers, in the queue's own terms."""
    if result.queue == DBOS.name:
        return "1 executor, no limit"
    return str(result.consumers)


def render(results: list[Result], plan: Plan, versions: dict[str, str], elapsed: float) -> str:
    """The section for bench/README.md."""
    rows = [
        [
            result.queue,
            consumers_label(result),
            str(result.scenario),
            f"{result.jobs_per_second:,.0f}",
            "–" if result.scenario.backlog else f"{result.enqueues_per_second:,.0f}",
            "–" if result.scenario.backlog else f"{result.latency_ms(50):.1f}",
            "–" if result.scenario.backlog else f"{result.latency_ms(95):.1f}",
            f"{result.cpu_ms_per_job(result.client_cpu_seconds):.2f}",
            f"{result.cpu_ms_per_job(result.database_cpu_seconds):.2f}",
        ]
        for result in results
    ]
    header = [
        "queue",
        "consumers",
        "scenario (jobs)",
        "jobs/s",
        "enqueues/s",
        "enqueue → claimed p50 ms",
        "p95 ms",
        "client CPU ms/job",
        "PostgreSQL CPU ms/job",
    ]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    command = ".venv/bin/python bench/bench_queue_store.py"
    for library, python in [(PROCRASTINATE, plan.procrastinate_python), (DBOS, plan.dbos_python)]:
        if python:
            command += f" --{library.name}-python {python}"
    libraries = ", ".join(f"{name} {version}" for name, version in versions.items()) or "none"
    return (
        f"{SECTION}\n\n"
        f"`{command}` ({elapsed:.0f} s; libraries: {libraries}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average at the end "
        f"{load}; {when}). One throw-away PostgreSQL on loopback (fsync off, as in the store "
        "tests), a fresh database per row, the queues taking turns. Switchboard's consumers "
        f"claim up to {SETTINGS.dispatch_concurrency} jobs each and, when not woken, poll every "
        f"{SETTINGS.poll_interval:g} s. See the script's docstring for what each figure is; "
        'docs/store.md ("Why our own queue") for what they mean.\n\n' + table(header, rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per burst (≤ 10000)")
    parser.add_argument("--consumers", default="1,4", help="consumer counts, comma-separated")
    parser.add_argument("--steady-jobs", type=int, default=250, help="jobs per steady run")
    parser.add_argument("--steady-rate", type=float, default=50.0, help="steady jobs per second")
    parser.add_argument("--procrastinate-python", help="python of a venv with procrastinate")
    parser.add_argument("--dbos-python", help="python of a venv with dbos (optional)")
    parser.add_argument("--readme", action="store_true", help="print the bench/README.md section")
    args = parser.parse_args()
    if not 1 <= args.jobs <= 10_000 or not 1 <= args.steady_jobs <= 2_000:
        parser.error("--jobs must be 1..10000 and --steady-jobs 1..2000 (the bench is bounded)")
    for option in ("procrastinate_python", "dbos_python"):
        python = getattr(args, option)
        if python is not None and not Path(python).is_file():
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} {python}: no such file; create that venv first")
    plan = Plan(
        jobs=args.jobs,
        consumers=tuple(int(n) for n in args.consumers.split(",")),
        steady_jobs=args.steady_jobs,
        steady_rate=args.steady_rate,
        procrastinate_python=args.procrastinate_python,
        dbos_python=args.dbos_python,
    )
    server = PostgresServer()
    started = time.perf_counter()
    try:
        server.start()
        results, versions = asyncio.run(run_all(server, plan))
    finally:
        server.stop()
    section = render(results, plan, versions, time.perf_counter() - started)
    print()
    print(section if args.readme else section.split("\n\n", 2)[2])


if __name__ == "__main__":
    main()
