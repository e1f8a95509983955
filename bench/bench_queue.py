"""Benchmark: from a slot freeing up to the next queued caller hearing an agent, at the phone.

Run: ``scripts/netns-run .venv/bin/python bench/bench_queue.py [--rounds 2] [--readme]``.
Starts the system of tests/integration/stranded/test_queue.py once (``start_queue_system``:
livekit-server posting webhooks to ``switchboard serve``, the bundled hold agent, the ``served``
test agent, limit 3 and a queue of 7), then per round dials 11 sipp callers: 3 are served, 7
wait and are promoted as the served agents leave, the 11th overflows.

Per promoted caller: **slot → agent heard** = the first 100 ms of the agent's 1 kHz tone at the
caller's RTP port (tcpdump) minus the time the agent whose slot it took left (its job's log),
split into **slot → promoted** (the ``participant_left`` webhook reaching the service and the
store's promotion: Switchboard's part) and **promoted → heard** (the dispatch, the worker
starting the job, the agent joining and its audio reaching the phone). A caller the queue took
who never hears an agent is **stranded**.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import replace_section, table

from tests.integration.stranded.queue_fixtures import (
    CALLERS,
    LIMIT,
    MAX_WAITING,
    QueueRound,
    QueueSystem,
    call_the_queue,
    start_queue_system,
)

GOAL_P95_SECONDS = 1.5
SECTION = "## Caller queue: slot freed → next caller hears an agent (bench/bench_queue.py)"


class TempDirs:
    """What ``start_queue_system`` needs of pytest's ``tmp_path_factory``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def split(result: QueueRound) -> tuple[list[float], list[float], list[float], int]:
    """Per promoted caller: slot → heard, slot → promoted, promoted → heard; and the stranded."""
    left_at = {job["room"]: job["left_at"] for job in result.jobs}
    total, service, agent = [], [], []
    by_room = {c.room_name: c for c in result.callers}
    for room, fact in result.promoted.items():
        heard, freed = result.heard_agent(room), fact.get("slot_of", "")
        served_at = by_room[room].served_at
        if heard is None or freed not in left_at or served_at is None:
            continue
        total.append(heard - left_at[freed])
        service.append(served_at.timestamp() - left_at[freed])
        agent.append(heard - served_at.timestamp())
    taken = [c for c in result.callers if c.served_at is not None]
    stranded = sum(1 for c in taken if result.heard_agent(c.room_name) is None)
    return total, service, agent, stranded


def run(rounds: int, workdir: Path) -> tuple[list[float], list[float], list[float], int]:
    """Start the system (its set-up runs its own event loop), then the rounds in another."""
    with start_queue_system(TempDirs(workdir)) as system:  # type: ignore[arg-type]
        return asyncio.run(_rounds(system, rounds))


async def _rounds(
    system: QueueSystem, rounds: int
) -> tuple[list[float], list[float], list[float], int]:
    total: list[float] = []
    service: list[float] = []
    agent: list[float] = []
    stranded = 0
    for number in range(rounds):
        result = await call_the_queue(system, number, require_all=False)
        t, s, a, lost = split(result)
        total, service, agent, stranded = total + t, service + s, agent + a, stranded + lost
        heard = sorted(round(x, 2) for x in t)
        print(f"round {number + 1}: {len(t)} promoted, slot → heard {heard}", flush=True)
    return total, service, agent, stranded


def report(
    total: list[float],
    service: list[float],
    agent: list[float],
    stranded: int,
    rounds: int,
    seconds: float,
) -> str:
    load = os.getloadavg()[0]
    rows = [
        [
            name,
            str(len(values)),
            f"{percentile(values, 50):.2f}",
            f"{percentile(values, 95):.2f}",
            f"{max(values):.2f}" if values else "nan",
        ]
        for name, values in (
            ("slot → agent heard", total),
            ("slot → promoted (service)", service),
            ("promoted → agent heard", agent),
        )
    ]
    p95 = percentile(total, 95)
    verdict = "met" if p95 <= GOAL_P95_SECONDS else "**not met**"
    return "\n".join(
        [
            SECTION,
            "",
            f"`scripts/netns-run .venv/bin/python bench/bench_queue.py --rounds {rounds}`, "
            f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'the'} "
            f"({os.cpu_count()} cores, load {load:.1f} at the end; {seconds:.0f} s). Per round "
            f"{CALLERS} sipp callers, limit {LIMIT}, queue {MAX_WAITING}: the {MAX_WAITING} queued "
            "callers are promoted as the agents ahead of them leave. Seconds:",
            "",
            table(["", "n", "p50", "p95", "max"], rows),
            "",
            f"Goal slot → agent heard ≤ {GOAL_P95_SECONDS} s at p95: {verdict} ({p95:.2f} s). "
            f"Callers stranded (taken by the queue, never heard an agent): {stranded}.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--readme", action="store_true", help="write into bench/README.md")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    started = time.monotonic()
    try:
        total, service, agent, stranded = run(args.rounds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(total, service, agent, stranded, args.rounds, time.monotonic() - started)
    print(text)
    if args.readme:
        replace_section(text, [SECTION])


if __name__ == "__main__":
    main()
