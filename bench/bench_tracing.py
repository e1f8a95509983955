"""Benchmark: what tracing costs on the dispatch path (webhook in → ``CreateDispatch`` done).

Run: ``scripts/netns-run .venv/bin/python bench/bench_tracing.py`` (add ``--readme`` to write the
figures into bench/README.md). Starts livekit-server + redis and Jaeger all-in-one on loopback,
and one Switchboard service runtime in this process (``mode: function``: no background loops,
SQLite store). Per room: ``CreateRoom``, then the timed part: the signed ``room_started``
webhook through the intake (verify, decide, record, enqueue), which in ``function`` mode drains
the queue before answering (claim, ``GetRoom``, ``ListDispatch``, ``CreateDispatch``, complete).
Rooms alternate between tracing off (the OpenTelemetry API's no-op, as without
``OTEL_EXPORTER_OTLP_ENDPOINT``) and on (the SDK with a batch OTLP/HTTP exporter to Jaeger, as
with it), in ABBA order so drift cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_dispatch import percentile, room_started
from benchkit import replace_section, table
from livekit import api
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from switchboard import telemetry
from switchboard.service.runtime import ServiceRuntime
from switchboard.settings import Settings
from switchboard.stack.config import StackConfig
from switchboard.stack.stack import Stack, running_stack
from switchboard.telemetry.jaeger import Jaeger
from switchboard.tracing.steps import Step

ROOMS = 400
"""Rooms in all, half with tracing on."""
SERVICE = "switchboard-bench"
SECTION = "## Tracing overhead"
COSTS: dict[str, float] = {}
"""Per-dispatch CPU cost of the spans alone, by mode (filled by ``measure``)."""
RULES = """\
version: 1
rules:
  - id: everyone
    when: {event: room_started}
    then: {dispatch: [qualifier]}
default: nobody
"""


async def measure(
    stack: Stack, jaeger: Jaeger, workdir: Path, rooms: int
) -> dict[str, list[float]]:
    rules = workdir / "rules.yaml"
    rules.write_text(RULES)
    settings = Settings(
        livekit_url=stack.config.url,
        livekit_api_key=stack.config.api_key,
        livekit_api_secret=stack.config.api_secret,
        rules=rules,
        store_url=f"sqlite+aiosqlite:///{workdir / 'store.db'}",
        mode="function",  # the intake dispatches before answering: the whole path, timed
        reconcile_interval=0,
    )  # type: ignore[call-arg]
    runtime = ServiceRuntime(settings)
    await runtime.start()
    sdk = TracerProvider(resource=Resource.create({SERVICE_NAME: SERVICE}))
    sdk.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(f"{jaeger.otlp_endpoint}/v1/traces"))
    )
    modes = {"off": trace.get_tracer_provider(), "on": sdk}
    lkapi = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
    times: dict[str, list[float]] = {"off": [], "on": []}
    costs = COSTS
    try:
        for i in range(rooms + 10):  # the first 10 warm up (connections, caches)
            mode = ("off", "on", "on", "off")[i % 4]
            telemetry.setup.use(modes[mode])
            room = await lkapi.room.create_room(
                api.CreateRoomRequest(name=f"tr-{i}-{uuid.uuid4().hex[:6]}", empty_timeout=60)
            )
            body, headers = room_started(stack, room)
            started = time.perf_counter()
            # mode "function": the intake drains the queue inline before it answers
            result = await runtime.intake.handle(body, headers["Authorization"])
            elapsed = time.perf_counter() - started
            assert result.enqueued == 1, result
            if i >= 10:
                times[mode].append(elapsed)
    finally:
        costs["off"] = span_cost(modes["off"])
        costs["on"] = span_cost(sdk)
        sdk.shutdown()
        telemetry.shutdown()
        await lkapi.aclose()
        await runtime.stop()
    dispatched = runtime.metrics.dispatches.labels(outcome="dispatched")._value.get()
    assert dispatched == rooms + 10, f"{dispatched} dispatches for {rooms + 10} rooms"
    return times


def span_cost(provider: trace.TracerProvider, iterations: int = 300) -> float:
    """Seconds of this process's time per dispatch path spent on its spans alone: the five
    the service emits for one room (webhook, decision, job.queued, job.claimed, CreateDispatch)."""
    telemetry.setup.use(provider)
    started = time.perf_counter()
    for i in range(iterations):
        call = telemetry.call_context(f"RM_{i}")
        with (
            telemetry.step_span(Step.WEBHOOK, call, {"room": "r"}),
            telemetry.step_span(Step.DECISION),
        ):
            pass
        now = time.time_ns()
        telemetry.record_step(Step.JOB_QUEUED, now, now, call, {"room": "r"})
        with (
            telemetry.step_span(Step.JOB_CLAIMED, call, {"room": "r"}),
            telemetry.step_span(Step.CREATE_DISPATCH),
        ):
            pass
    return (time.perf_counter() - started) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=ROOMS)
    parser.add_argument("--readme", action="store_true", help="write the figures to README.md")
    args = parser.parse_args()
    started = time.monotonic()
    config = StackConfig(with_sip=False, empty_timeout=60)
    with (
        tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp,
        running_stack(f"bench-{uuid.uuid4().hex[:8]}", config) as stack,
    ):
        workdir = Path(tmp)
        jaeger = Jaeger(workdir / "jaeger.log").start()
        try:
            times = asyncio.run(measure(stack, jaeger, workdir, args.rooms))
            time.sleep(2)
            traces = len(jaeger.traces(SERVICE, limit=args.rooms * 2))
        finally:
            jaeger.stop()
    rows = []
    for mode in ("off", "on"):
        values = times[mode]
        figures = (percentile(values, 50), percentile(values, 95), statistics.mean(values))
        rows.append([mode, str(len(values)), *(f"{v * 1000:.2f}" for v in figures)])
    p50 = percentile(times["on"], 50) / percentile(times["off"], 50)
    p95 = percentile(times["on"], 95) / percentile(times["off"], 95)
    command = "scripts/netns-run .venv/bin/python bench/bench_tracing.py --readme"
    when = f"{time.strftime('%Y-%m-%d')}, {time.monotonic() - started:.0f} s, 2 shared cores"
    markdown = "\n".join(
        [
            SECTION,
            "",
            f"`{command}` ({when}). Per room: the webhook intake and one dispatcher drain "
            "(verify, decide, record, claim, GetRoom, ListDispatch, CreateDispatch) against a "
            "real livekit-server. Tracing off: the OpenTelemetry API's no-op; on: the SDK with "
            f"a batch OTLP/HTTP exporter to Jaeger ({traces} traces received).",
            "",
            table(["tracing", "rooms", "p50 ms", "p95 ms", "mean ms"], rows),
            "",
            f"on/off: **{p50:.3f}× at p50** (goal ≤ 1.03×), {p95:.3f}× at p95.",
            "",
            "The spans alone (the five of one dispatch, 300 times in a loop, fewer spans than "
            "the batch queue holds): "
            f"{COSTS['off'] * 1e6:.0f} µs per dispatch off, {COSTS['on'] * 1e6:.0f} µs on, i.e. "
            f"{(COSTS['on'] - COSTS['off']) / percentile(times['off'], 50) * 100:.2f} % of the "
            "off p50 above.",
            "",
        ]
    )
    print(markdown)
    if args.readme:
        replace_section(markdown, [SECTION])


if __name__ == "__main__":
    main()
