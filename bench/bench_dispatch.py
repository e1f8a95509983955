"""Benchmark: how fast an agent reaches a new room, and how the service takes a webhook burst.

Run: ``scripts/netns-run .venv/bin/python bench/bench_dispatch.py`` (or ``make bench``); add
``--readme`` to write the figures into bench/README.md, or ``--postgres`` to run the burst's
service on a throw-away PostgreSQL instead of SQLite (printed only). Starts its own stack
(livekit-server + redis on loopback), the named probe workers ``qualifier`` and
``outbound-caller``, and each webhook handler in its own process, and stops them all. About two
minutes on 2 cores.

(a) Room start → agent in the room. An rtc participant connects to a new room; the time is
measured from the ``connect`` call to the ``participant_connected`` event of the AGENT participant.
Three ways to get ``qualifier`` there, interleaved room by room:

* ``native``: the join token carries ``RoomConfiguration.agents=[qualifier]``;
* ``webhook``: a plain token; the Switchboard service (``create_app``, uvicorn) gets the server's
  ``room_started`` webhook, decides with a rule on the room name and dispatches;
* ``naive``: a plain token; a seed-style handler that, per webhook, builds a ``LiveKitAPI``
  client, verifies the webhook and awaits ``CreateDispatch`` inside the request.

The stack posts every webhook to both handlers; each acts only on rooms of its own prefix.

(b) A burst of 500 signed ``room_started`` webhooks (built like livekit-server: protojson body,
a JWT with the body's sha256), one per room created beforehand with ``CreateRoom``, posted with 50
in flight to a second service instance (one the stack does not post to, so only these events
reach it): ack latency, dispatch throughput until the queue is empty, exactly one ``qualifier``
dispatch per room on the server, and two replays (same bytes; new event ids) adding no job.
Baseline: the same posts to a Starlette endpoint that only answers 200. The probe workers are
stopped before the burst: the server keeps each dispatch without launching 500 agent processes.

(c) Where the dispatch rate stops: the CPU seconds of each process (the service, livekit-server,
redis, this bench) from the burst's first post until its queue is empty; then, on 500 more new
rooms, the service's three API calls per job (``ListRooms``, ``ListDispatch``,
``CreateDispatch``) made directly from this process with the dispatcher's concurrency, no
webhook and no store: the rate livekit-server's API allows on this box, with its CPU split.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import math
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
import httpx
from benchkit import machine, table, write_section
from google.protobuf.json_format import MessageToJson
from livekit import api, rtc

from switchboard.settings import Settings
from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.stack import Stack, running_stack
from switchboard.store import Store
from tests.integration.store.pg_server import PostgresServer
from tests.support.participants import token as join_token
from tests.support.workers import WorkerPool, start_probe_workers

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
AGENT = "qualifier"
ROOMS_PER_VARIANT = 30
BURST = 500
IN_FLIGHT = 50
AGENT_TIMEOUT = 20.0
BETWEEN_ROOMS = 0.6
"""Lets the worker prewarm its next job process, so each room meets the same idle worker."""
PREFIX = {"native": "nat-", "webhook": "wh-", "naive": "nv-"}
BURST_PREFIX = "bu-"
SECTION = "## Dispatch service"


def rules_yaml(prefix: str) -> str:
    return f"""\
version: 1
rules:
  - id: bench
    when:
      event: room_started
      room.name: {{glob: "{prefix}*"}}
    then:
      dispatch:
        - agent: {AGENT}
default: nobody
"""


# --- the handlers, each in its own process ------------------------------------------------


def serve(kind: str, port: int, config: dict[str, Any]) -> None:
    """Child process: run one webhook handler under uvicorn until terminated."""
    import uvicorn

    uvicorn.run(_app(kind, config), host="127.0.0.1", port=port, log_level="warning")


def _app(kind: str, config: dict[str, Any]) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    if kind == "service":
        from switchboard.service import create_app
        from switchboard.settings import load_settings

        return create_app(load_settings(**config))

    if kind == "trivial":

        async def ok(request: Request) -> Response:
            await request.body()
            return Response(b"{}", media_type="application/json")

        return Starlette(routes=[Route("/livekit/webhook", ok, methods=["POST"])])

    url, key, secret = (
        config["livekit_url"],
        config["livekit_api_key"],
        config["livekit_api_secret"],
    )

    async def naive(request: Request) -> Response:
        body = (await request.body()).decode()
        lkapi = api.LiveKitAPI(url, key, secret)
        try:
            receiver = api.WebhookReceiver(api.TokenVerifier(key, secret))
            event = receiver.receive(body, request.headers.get("authorization", ""))
            if event.event == "room_started" and event.room.name.startswith(PREFIX["naive"]):
                await lkapi.agent_dispatch.create_dispatch(
                    api.CreateAgentDispatchRequest(agent_name=AGENT, room=event.room.name)
                )
        finally:
            await lkapi.aclose()
        return Response(b"{}", media_type="application/json")

    return Starlette(routes=[Route("/livekit/webhook", naive, methods=["POST"])])


@dataclass
class Handler:
    kind: str
    port: int
    process: BaseProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def start_handler(kind: str, port: int, config: dict[str, Any]) -> Handler:
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(kind, port, config), name=f"bench-{kind}", daemon=True
    )
    process.start()
    handler = Handler(kind, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise RuntimeError(f"{kind} handler exited with {process.exitcode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return handler
        except OSError:
            time.sleep(0.05)
    handler.stop()
    raise RuntimeError(f"{kind} handler did not listen on {port} in 30 s")


def service_config(stack: Stack, rules: Path, store_url: str) -> dict[str, Any]:
    return {
        "livekit_url": stack.config.url,
        "livekit_api_key": stack.config.api_key,
        "livekit_api_secret": stack.config.api_secret,
        "rules": str(rules),
        "store_url": store_url,
        # Off so that only webhooks cause dispatches; the defaults otherwise.
        "reconcile_interval": 0,
    }


# --- statistics and tables ------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


async def bounded(coroutines: Iterable[Awaitable[T]], limit: int) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Awaitable[T]) -> T:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


# --- (a) room start → agent in the room ------------------------------------------------------


@dataclass
class RoomTiming:
    variant: str
    room: str
    started_wall: float
    seconds: float | None
    connect_seconds: float


async def time_agent_arrival(
    stack: Stack, lkapi: api.LiveKitAPI, variant: str, room: str
) -> RoomTiming:
    agents = [AGENT] if variant == "native" else None
    jwt = join_token(stack, room, "human", agents=agents)
    client = rtc.Room()
    arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_participant(participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT and not arrived.done():
            arrived.set_result(time.perf_counter())

    client.on("participant_connected", on_participant)
    started_wall = time.time()
    started = time.perf_counter()
    await client.connect(stack.config.url, jwt)
    connected = time.perf_counter()
    try:
        seconds: float | None = await asyncio.wait_for(arrived, AGENT_TIMEOUT) - started
    except TimeoutError:
        seconds = None
    finally:
        await client.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
    return RoomTiming(variant, room, started_wall, seconds, connected - started)


async def room_start_latency(stack: Stack, lkapi: api.LiveKitAPI) -> list[RoomTiming]:
    timings: list[RoomTiming] = []
    variants = list(PREFIX)
    run = uuid.uuid4().hex[:6]
    for i in range(ROOMS_PER_VARIANT):
        # Rotate the order so that no variant always follows the same one.
        for variant in variants[i % 3 :] + variants[: i % 3]:
            room = f"{PREFIX[variant]}{run}-{i}"
            timings.append(await time_agent_arrival(stack, lkapi, variant, room))
            await asyncio.sleep(BETWEEN_ROOMS)
        print(f"  (a) {3 * (i + 1)}/{3 * ROOMS_PER_VARIANT} rooms", file=sys.stderr)
    return timings


async def webhook_breakdown(store_url: str, timings: list[RoomTiming]) -> dict[str, float]:
    """Median split of the webhook variant: join → decided → claimed → dispatched → agent."""
    rooms = [t for t in timings if t.variant == "webhook" and t.seconds is not None]
    to_decided, to_claimed, to_dispatched, to_agent = [], [], [], []
    async with await Store.open(store_url) as store:
        jobs = await store.intents_for_rooms([t.room for t in rooms])
        for timing in rooms:
            room_jobs = jobs[timing.room]
            finished = room_jobs[0].finished_at if len(room_jobs) == 1 else None
            if finished is None or timing.seconds is None:
                continue
            attempts = await store.attempts(room_jobs[0].job_id)
            decided = room_jobs[0].created_at.timestamp() - timing.started_wall
            claimed = attempts[-1].started_at.timestamp() - timing.started_wall
            dispatched = finished.timestamp() - timing.started_wall
            to_decided.append(decided)
            to_claimed.append(claimed - decided)
            to_dispatched.append(dispatched - claimed)
            to_agent.append(timing.seconds - dispatched)
    return {
        "join → webhook decided (job queued)": statistics.median(to_decided),
        "job queued → claimed by the dispatcher": statistics.median(to_claimed),
        "claimed → CreateDispatch answered": statistics.median(to_dispatched),
        "dispatch answered → agent in room": statistics.median(to_agent),
    }


# --- (b) the burst ----------------------------------------------------------------------------


def signed(stack: Stack, body: bytes) -> dict[str, str]:
    """Headers as livekit-server sends them: a bare JWT whose sha256 claim covers the body."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    jwt = api.AccessToken(stack.config.api_key, stack.config.api_secret).with_sha256(digest)
    return {"Content-Type": "application/webhook+json", "Authorization": jwt.to_jwt()}


def room_started(stack: Stack, room: api.Room) -> tuple[bytes, dict[str, str]]:
    event = api.WebhookEvent(
        event="room_started",
        room=room,
        id=f"EV_{secrets.token_urlsafe(9)}",
        created_at=int(time.time()),
    )
    body = MessageToJson(event, indent=None).encode()
    return body, signed(stack, body)


async def warm(http: aiohttp.ClientSession, url: str) -> None:
    """Open the pool's connections before timing (``/healthz``: the trivial app answers 404)."""

    async def get() -> None:
        async with http.get(f"{url}/healthz") as response:
            await response.read()

    await bounded((get() for _ in range(IN_FLIGHT)), IN_FLIGHT)


async def post_all(
    http: aiohttp.ClientSession, url: str, requests: list[tuple[bytes, dict[str, str]]]
) -> tuple[list[float], list[str]]:
    """Post every request, ``IN_FLIGHT`` at a time: the latencies and the answers
    (``"<status> <outcome>"``)."""

    async def post(body: bytes, headers: dict[str, str]) -> tuple[float, str]:
        started = time.perf_counter()
        async with http.post(f"{url}/livekit/webhook", data=body, headers=headers) as response:
            answer = await response.json(content_type=None)
        return time.perf_counter() - started, f"{response.status} {answer.get('outcome', '?')}"

    results = await bounded((post(b, h) for b, h in requests), IN_FLIGHT)
    return [r[0] for r in results], [r[1] for r in results]


def count(answers: list[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for answer in answers:
        counted[answer] = counted.get(answer, 0) + 1
    return counted


def metric_sum(text: str, name: str, labels: str = "") -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def finished_jobs(http: aiohttp.ClientSession, url: str) -> tuple[float, float]:
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    done = sum(
        metric_sum(text, "switchboard_dispatches_total", f'outcome="{o}"')
        for o in ("dispatched", "already_dispatched", "dead")
    )
    return done, metric_sum(text, "switchboard_queue_depth")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds per named process between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def stop(self) -> dict[str, float]:
        self.used = {n: cpu_seconds(pid) - self._start[n] for n, pid in self._pids.items()}
        return self.used


def process_ids(stack: Stack, service: Handler) -> dict[str, int]:
    pids = {"service": service.process.pid, "bench (posts, API client)": os.getpid()}
    for name in ("livekit-server", "redis"):
        pid = stack.process(name).pid
        if pid is not None:
            pids[name] = pid
    return {name: pid for name, pid in pids.items() if pid is not None}


async def direct_dispatch(lkapi: api.LiveKitAPI, names: list[str]) -> float:
    """The dispatcher's three API calls per room, without webhook or store; seconds for all."""

    async def one(name: str) -> None:
        await lkapi.room.list_rooms(api.ListRoomsRequest(names=[name]))
        await lkapi.agent_dispatch.list_dispatch(room_name=name)
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=AGENT, room=name)
        )

    started = time.perf_counter()
    await bounded((one(n) for n in names), Settings().dispatch_concurrency)
    return time.perf_counter() - started


async def create_rooms(lkapi: api.LiveKitAPI, names: list[str]) -> list[api.Room]:
    return await bounded(
        (lkapi.room.create_room(api.CreateRoomRequest(name=n, empty_timeout=300)) for n in names),
        IN_FLIGHT,
    )


@dataclass
class BurstResult:
    ack_service: list[float]
    ack_trivial: list[float]
    statuses: dict[str, int]
    dispatch_seconds: float
    acked_seconds: float
    jobs: int
    dead: int
    exactly_once: bool
    rooms_wrong: list[str]
    replay_outcomes: dict[str, int]
    replay_new_ids_outcomes: dict[str, int]
    new_jobs_after_replays: int
    cpu_burst: dict[str, float] = field(default_factory=dict)
    direct_seconds: float = math.nan
    cpu_direct: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def burst(
    stack: Stack, lkapi: api.LiveKitAPI, service: Handler, trivial: Handler, store_url: str
) -> BurstResult:
    run = uuid.uuid4().hex[:6]
    names = [f"{BURST_PREFIX}{run}-{i}" for i in range(BURST)]
    created = time.perf_counter()
    rooms = await create_rooms(lkapi, names)
    meter = CpuMeter(process_ids(stack, service))
    print(f"  (b) created {BURST} rooms in {time.perf_counter() - created:.1f} s", file=sys.stderr)
    requests = [room_started(stack, room) for room in rooms]
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await warm(http, trivial.url)
        ack_trivial, _ = await post_all(http, trivial.url, requests)
        await warm(http, service.url)
        await asyncio.sleep(1.0)
        first_post = time.time()
        meter.start()
        ack_service, answers = await post_all(http, service.url, requests)
        acked_seconds = time.time() - first_post
        statuses = count(answers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done, depth = await finished_jobs(http, service.url)
            if done >= BURST and depth == 0:
                break
            await asyncio.sleep(0.1)
        cpu_burst = meter.stop()
        async with await Store.open(store_url) as store:
            jobs = await store.intents_for_rooms(names)
        every = [job for room_jobs in jobs.values() for job in room_jobs]
        finished = [j.finished_at.timestamp() for j in every if j.finished_at is not None]
        dispatch_seconds = (max(finished) - first_post) if finished else math.nan
        dead = sum(1 for j in every if j.status.value == "dead")

        replay_outcomes = await outcomes(http, service.url, requests)
        renamed = [room_started(stack, room) for room in rooms]
        replay_new_ids = await outcomes(http, service.url, renamed)
        await asyncio.sleep(1.0)
        done_after, _ = await finished_jobs(http, service.url)
    async with await Store.open(store_url) as store:
        jobs_after = await store.intents_for_rooms(names)
    new_jobs = sum(len(j) for j in jobs_after.values()) - len(every) + int(done_after - done)

    async def wrong(name: str) -> str | None:
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=name)
        agents = sorted(d.agent_name for d in dispatches if d.agent_name)
        return None if agents == [AGENT] else f"{name}: {agents}"

    problems = [p for p in await bounded((wrong(n) for n in names), IN_FLIGHT) if p]
    direct_names = [f"{BURST_PREFIX}{run}-direct-{i}" for i in range(BURST)]
    await create_rooms(lkapi, direct_names)
    meter.start()
    direct_seconds = await direct_dispatch(lkapi, direct_names)
    cpu_direct = meter.stop()
    return BurstResult(
        ack_service=ack_service,
        ack_trivial=ack_trivial,
        statuses=statuses,
        dispatch_seconds=dispatch_seconds,
        acked_seconds=acked_seconds,
        jobs=len(every),
        dead=dead,
        exactly_once=not problems and len(every) == BURST and new_jobs == 0,
        rooms_wrong=problems[:5],
        replay_outcomes=replay_outcomes,
        replay_new_ids_outcomes=replay_new_ids,
        new_jobs_after_replays=new_jobs,
        cpu_burst=cpu_burst,
        direct_seconds=direct_seconds,
        cpu_direct=cpu_direct,
    )


async def outcomes(
    http: aiohttp.ClientSession, url: str, requests: list[tuple[bytes, dict[str, str]]]
) -> dict[str, int]:
    _, answers = await post_all(http, url, requests)
    return count(answers)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Report:
    markdown: str
    summary: list[str]


def report(timings: list[RoomTiming], breakdown: dict[str, float], result: BurstResult) -> Report:
    by: dict[str, list[float]] = {v: [] for v in PREFIX}
    failed: dict[str, int] = dict.fromkeys(PREFIX, 0)
    for timing in timings:
        if timing.seconds is None:
            failed[timing.variant] += 1
        else:
            by[timing.variant].append(timing.seconds)
    p = {v: (percentile(s, 50), percentile(s, 95)) for v, s in by.items()}
    connect = percentile((t.connect_seconds for t in timings), 50)
    rows = [
        [v, f"{len(by[v])}/{ROOMS_PER_VARIANT}", ms(p[v][0]), ms(p[v][1])]
        for v in ("native", "webhook", "naive")
    ]
    part_a = table(["room start → agent joined", "rooms", "p50 ms", "p95 ms"], rows)
    ratios = table(
        ["ratio", "p50", "p95", "goal"],
        [
            [
                "webhook / native",
                ratio(p["webhook"][0], p["native"][0]),
                ratio(p["webhook"][1], p["native"][1]),
                "≤ 1.05×",
            ],
            [
                "naive / webhook",
                ratio(p["naive"][0], p["webhook"][0]),
                ratio(p["naive"][1], p["webhook"][1]),
                "≥ 2×",
            ],
        ],
    )
    split = table(
        ["webhook variant, median split", "ms"], [[k, ms(v)] for k, v in breakdown.items()]
    )
    s50, s99 = percentile(result.ack_service, 50), percentile(result.ack_service, 99)
    t50, t99 = percentile(result.ack_trivial, 50), percentile(result.ack_trivial, 99)
    throughput = result.jobs / result.dispatch_seconds if result.dispatch_seconds else math.nan
    part_b = table(
        [f"burst of {BURST} room_started, {IN_FLIGHT} in flight", "value"],
        [
            ["service ack p50 / p99 ms", f"{ms(s50)} / {ms(s99)}"],
            ["trivial 200 endpoint ack p50 / p99 ms", f"{ms(t50)} / {ms(t99)}"],
            ["ack p99 service / trivial", ratio(s99, t99)],
            ["all 500 answered after", f"{result.acked_seconds:.2f} s"],
            ["answers", ", ".join(f"{k}: {n}" for k, n in sorted(result.statuses.items()))],
            [
                "jobs dispatched, first post → queue empty",
                f"{result.jobs} in {result.dispatch_seconds:.2f} s = {throughput:.0f} jobs/s"
                f" ({result.dead} dead)",
            ],
            [
                "replay, same bytes",
                ", ".join(f"{k}: {n}" for k, n in sorted(result.replay_outcomes.items())),
            ],
            [
                "replay, new event ids",
                ", ".join(f"{k}: {n}" for k, n in sorted(result.replay_new_ids_outcomes.items())),
            ],
            ["new jobs after both replays", str(result.new_jobs_after_replays)],
            [
                "exactly one qualifier dispatch per room (ListDispatch)",
                "yes" if result.exactly_once else f"NO: {result.rooms_wrong}",
            ],
        ],
    )
    direct_rate = BURST / result.direct_seconds
    part_c = table(
        ["where the dispatch rate stops", "jobs/s", *[f"CPU s: {n}" for n in result.cpu_burst]],
        [
            [
                "service: first post → queue empty",
                f"{throughput:.0f}",
                *[f"{result.cpu_burst[n]:.2f}" for n in result.cpu_burst],
            ],
            [
                "the three API calls, direct",
                f"{direct_rate:.0f}",
                *[f"{result.cpu_direct.get(n, math.nan):.2f}" for n in result.cpu_burst],
            ],
        ],
    )
    failures = {v: n for v, n in failed.items() if n}
    notes = [f"rtc connect() p50 {ms(connect)} ms (all variants)."]
    if failures:
        notes.append(f"agent did not join within {AGENT_TIMEOUT:.0f} s: {failures}")
    markdown = "\n\n".join([part_a, ratios, split, part_b, part_c, " ".join(notes)])
    summary = [
        f"webhook/native p50 {ratio(p['webhook'][0], p['native'][0])}",
        f"naive/webhook p50 {ratio(p['naive'][0], p['webhook'][0])}",
        f"ack p99 {ms(s99)} ms vs trivial {ms(t99)} ms",
        f"{throughput:.0f} jobs/s (direct API {direct_rate:.0f}/s)",
        f"exactly once: {result.exactly_once}",
    ]
    return Report(markdown, summary)


async def measure(
    stack: Stack, workers: WorkerPool, workdir: Path, burst_store_url: str | None = None
) -> Report:
    """Parts (a) to (c); the burst's service on ``burst_store_url`` (default: a SQLite file)."""
    rules_a, rules_b = workdir / "rules-a.yaml", workdir / "rules-b.yaml"
    rules_a.write_text(rules_yaml(PREFIX["webhook"]))
    rules_b.write_text(rules_yaml(BURST_PREFIX))
    store_a = f"sqlite+aiosqlite:///{workdir / 'service-a.db'}"
    store_b = burst_store_url or f"sqlite+aiosqlite:///{workdir / 'service-b.db'}"
    config_a = service_config(stack, rules_a, store_a)
    ports = stack.config.webhook_urls
    service_port, naive_port = (int(re.findall(r":(\d+)/", url)[0]) for url in ports)
    handlers = [
        start_handler("service", service_port, config_a),
        start_handler("naive", naive_port, config_a),
        start_handler("service", free_port(), service_config(stack, rules_b, store_b)),
        start_handler("trivial", free_port(), {}),
    ]
    lkapi = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
    try:
        await _ready(handlers[0].url)
        await _ready(handlers[2].url)
        timings = await room_start_latency(stack, lkapi)
        breakdown = await webhook_breakdown(store_a, timings)
        workers.stop()
        result = await burst(stack, lkapi, handlers[2], handlers[3], store_b)
    finally:
        await lkapi.aclose()
        for handler in handlers:
            handler.stop()
    return report(timings, breakdown, result)


async def _ready(url: str) -> None:
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 30
        while (await http.get(f"{url}/readyz")).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} not ready in 30 s")
            await asyncio.sleep(0.1)


def write_readme(markdown: str, command: str, elapsed: float) -> None:
    intro = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; one run of `{command}`"
        f" ({elapsed:.0f} s, stack and workers included). See the script's docstring for what"
        " each figure is, and docs/service.md for the design it measures."
    )
    heading = SECTION + " (bench/bench_dispatch.py)"
    write_section(heading, intro, markdown, EXPLANATION, (SECTION, "## Dispatch ("))


EXPLANATION = """
What the figures say (they vary run to run on a 2-core machine shared with livekit-server, redis
and two workers; 30 rooms per variant, so a p95 is the 29th value; over four runs before the
dispatcher's fast path webhook / native ranged 1.09–1.17× at p50, 1.08× in this run):

* **Room start → agent.** Most of the time is the agent's own arrival: from `CreateDispatch`
  answered to the AGENT participant in the room (the server offers the job, the worker hands it
  to its prewarmed process, which connects over rtc) takes ~0.35–0.45 s, and the native path
  pays it too. The webhook path adds the server's `room_started` delivery and the intake (join
  → job queued), the dispatcher's claim, `ListDispatch` and `CreateDispatch` and the group-
  committed completion: ~0.05–0.1 s. A first attempt no longer asks `ListRooms`: the room's own
  webhook, a few ms old, with no end of that session in the store, proves it (docs/service.md,
  "Exactly once"). The goal of ≤ 1.05× at p50 and p95 is **not met** (1.08× / 1.28× here): what
  remains is the webhook's delivery and the two API calls, against a native path that has none.
* **Naive vs webhook.** On an idle stack the naive handler is as fast as the service or faster:
  it makes one API call inside the request, the service makes two and records the webhook and
  the job first, which is the price of exactly once. The "≥ 2× faster than naive" measure was
  the wrong one (issue 10): what the naive handler lacks shows under faults, as doubled agents
  when an answer is lost (bench_scale.py, "Calls at scale"), not as latency.
* **Burst.** Posted with aiohttp (httpx's client was itself the limit at ~300 requests/s). The
  intake group-commits: webhooks that arrive while a write is in flight are recorded together,
  and each request is answered once its own webhook is durable; all 500 are answered in ~1.1 s.
  The ack p99 against the trivial endpoint is **not met** (goal ≤ 2×; 5.4–16.6× over the runs,
  the trivial p99 7–45 ms): with 50 requests in flight, a request waits for the CPU of those
  ahead of it (verifying the JWT, parsing the protobuf JSON, deciding, a share of a commit) and
  for the dispatching that runs in the same process; the trivial endpoint does none of it.
  Exactly once held: one `qualifier` dispatch per room on the server, the same-bytes replay
  answered `duplicate`, the replay with new event ids was recorded and decided but queued no job.
* **Where the dispatch rate stops.** Not at livekit-server's API: the three calls per job, made
  directly with the dispatcher's concurrency (32), ran at 473 jobs/s in this run (505–605 on
  earlier runs). The service drained the burst at 270 jobs/s (69–86 before the fast path:
  `ListRooms` skipped on first attempts, completions of a batch in one transaction) using 1.58
  CPU s over 1.85 s: one Python process's core, ~3 ms of CPU a job with its intake. The ≥ 300
  jobs/s goal is **not met** on one replica; a second replica needs a core this box does not
  have (livekit-server, redis and the bench use the other). On PostgreSQL (`--postgres`) the
  rate is in docs/store.md and the closing figures of issue 10.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the figures to README.md")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the burst's service on a throw-away PostgreSQL (the store tests' pg_server.py) "
        "instead of SQLite; prints only",
    )
    args = parser.parse_args()
    if args.readme and args.postgres:
        parser.error("--readme writes the SQLite run; run --postgres without it")
    started = time.monotonic()
    service_port, naive_port = free_port(), free_port()
    config = StackConfig(
        webhook_urls=[
            f"http://127.0.0.1:{service_port}/livekit/webhook",
            f"http://127.0.0.1:{naive_port}/livekit/webhook",
        ],
        departure_timeout=4,
        empty_timeout=300,
        with_sip=False,
    )
    postgres = PostgresServer() if args.postgres else None
    with (
        tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp,
        running_stack(f"bench-{uuid.uuid4().hex[:8]}", config) as stack,
    ):
        workdir = Path(tmp)
        burst_store_url = None
        if postgres is not None:
            postgres.start()
            burst_store_url = postgres.create_database("burst")
        print("stack up; starting workers", file=sys.stderr)
        workers = start_probe_workers(stack, [AGENT, "outbound-caller"], workdir)
        try:
            result = asyncio.run(measure(stack, workers, workdir, burst_store_url))
        finally:
            workers.stop()
            if postgres is not None:
                postgres.stop()
    elapsed = time.monotonic() - started
    print(result.markdown)
    print(f"\n{'; '.join(result.summary)}; total {elapsed:.0f} s", file=sys.stderr)
    if args.readme:
        write_readme(result.markdown, "make bench", elapsed)


if __name__ == "__main__":
    main()
