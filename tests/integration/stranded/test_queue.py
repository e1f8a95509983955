"""Admission control and the caller queue over real SIP, checked at the phones.

Eleven sipp callers dial ``QUEUE_CALLED`` one after the other; the rules serve 3 at a time with
the ``served`` agent (a 1 kHz tone, then it leaves) and queue up to 7. The first 3 are served at
once (their agents leave 10 s after joining, once all eleven have arrived); the next 7 wait with
the bundled hold agent (the chime, and their place in line spoken) and are served in arrival
order as slots free up, each exactly once; the 11th finds the line full and is told so and hung
up. tcpdump on each phone's RTP port says what each caller heard.

Measured (appended to ``measurements.jsonl``; bench/bench_queue.py reports p50/p95): the time
from a ``served`` agent leaving to the next caller in line hearing the agent's tone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from switchboard.store import CallerStatus
from tests.integration.stranded.conftest import record, speech_windows
from tests.integration.stranded.queue_fixtures import (
    AGENT_HZ,
    HOLD_MS,
    LIMIT,
    MAX_WAITING,
    SERVE_SECONDS,
    QueueSystem,
    call_the_queue,
    first_heard,
    start_queue_system,
)
from tests.support.rtp_capture import HEARD, Chunk, rms, tone_level

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]

CHIME_HZ = (440.0, 554.0)
"""The hold agent's chime (handoff.hold.HoldPattern)."""
SLOT_TO_AGENT_BOUND = 20.0
"""The test's bound per promoted caller, for the shared 2-core host: 1.2-7 s measured at load
15, 3-14 s at load 12, where livekit-server took up to 5 s to answer the dispatcher's three API
calls. The issue's goal (1.5 s at p95) is what bench/bench_queue.py reports against."""
TURN_SECONDS = SERVE_SECONDS / 2
"""Promotions this far apart are different turns of the queue."""


@pytest.fixture(scope="module")
def queue_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueSystem]:
    with start_queue_system(tmp_path_factory) as system:
        yield system


async def test_ten_callers_three_slots_served_in_order_and_the_eleventh_overflows(
    queue_system: QueueSystem,
) -> None:
    system = queue_system
    result = await call_the_queue(system)

    # The store: 3 admitted at once, 7 queued then served in arrival order, the rest overflowed
    # because the line was full. A SIP leg livekit-sip drops on the loaded host ('could not
    # connect after timeout') after its join reached the service is abandoned (and the phone's
    # INVITE may come back as a new call): it leaves the line like a caller who hung up.
    by_arrival = result.callers
    abandoned = [c for c in by_arrival if c.status is CallerStatus.ABANDONED]
    served_now = [c for c in by_arrival if c.served_at is not None and c.served_at == c.enqueued_at]
    queued = [c for c in by_arrival if c.served_at is not None and c.served_at > c.enqueued_at]
    overflowed = [c for c in by_arrival if c.status is CallerStatus.OVERFLOWED]
    assert len(served_now + queued + overflowed + abandoned) == len(by_arrival)
    assert len(served_now) == LIMIT and by_arrival[:LIMIT] == served_now
    assert len(queued) + len(abandoned) == MAX_WAITING, (queued, abandoned)
    assert [c.caller_id for c in sorted(queued, key=lambda c: (c.served_at, c.caller_id))] == [
        c.caller_id for c in queued
    ], "served out of arrival order"
    assert overflowed and overflowed[-1] is by_arrival[-1]
    for caller in overflowed:
        admitted = result.admissions[caller.room_name]
        assert admitted["kind"] == "overflow" and admitted["waiting"] == MAX_WAITING, admitted

    # The served agent: each of the ten rooms exactly once, never the overflowed caller's.
    served_rooms = [job["room"] for job in result.jobs]
    assert sorted(served_rooms) == sorted(c.room_name for c in served_now + queued)
    assert len(set(served_rooms)) == len(served_rooms), "a caller was served twice"

    # The hold agent announced each queued caller's place, counting down from where they came in.
    announced = _announcements(system.hold_log())
    for caller in queued:
        place = result.admissions[caller.room_name]["position"]
        positions = announced.get(caller.room_name, [])
        assert positions and positions[0] == place, (caller.room_name, place, positions)
        assert positions == sorted(positions, reverse=True), (caller.room_name, positions)

    # At the phones: everyone served hears the agent; the queued hear the chime and speech
    # first; the 11th hears the goodbye, never an agent, and is hung up.
    heard: dict[str, float] = {}
    for caller in served_now + queued:
        phone = result.phone_of(caller.room_name)
        first = result.heard_agent(caller.room_name)
        assert first is not None, f"{phone.number} never heard the agent"
        heard[caller.room_name] = first
        if caller in queued:
            chunks = phone.chunks()
            assert any(first_heard(chunks, hz, phone.started, first) for hz in CHIME_HZ), (
                f"{phone.number} never heard the chime while waiting"
            )
            spoken = _speech(chunks, phone.started, first)
            assert spoken >= 1.0, f"{phone.number} heard {spoken:.1f} s of speech while waiting"
    # Callers promoted together (three slots freeing at once) race to their agents' joins; a
    # caller promoted a turn later never hears an agent before one promoted a turn earlier.
    for earlier in queued:
        for later in queued:
            assert earlier.served_at is not None and later.served_at is not None
            if (later.served_at - earlier.served_at).total_seconds() >= TURN_SECONDS:
                assert heard[earlier.room_name] < heard[later.room_name], (earlier, later)
    for caller in overflowed:
        last = result.phone_of(caller.room_name)
        chunks = last.chunks()
        assert _speech(chunks, last.started, last.started + 40) >= 1.0, f"no goodbye: {caller}"
        assert first_heard(chunks, AGENT_HZ, last.started, last.started + HOLD_MS / 1000) is None
        assert "BYE" in last.sipp.messages(), f"{last.number} was not hung up"

    latencies = result.slot_to_agent()
    record(
        system.workdir,
        "queue_slot_to_agent",
        {"latencies": latencies, "stranded": 0, "dropped_legs": len(abandoned)},
    )
    assert len(latencies) == len(queued)
    assert all(0 <= latency < SLOT_TO_AGENT_BOUND for latency in latencies), latencies


def _announcements(log: str) -> dict[str, list[int]]:
    """The positions the hold agent announced, per room, in order."""
    found: dict[str, list[int]] = {}
    for line in log.splitlines():
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("message") != "hold: announcing":
            continue
        places = found.setdefault(record["room"], [])
        if not places or places[-1] != int(record["position"]):
            places.append(int(record["position"]))
    return found


def _speech(chunks: list[Chunk], start: float, end: float) -> float:
    """Seconds of audio in [start, end) that is loud and not the chime or the agent's tone."""
    seconds = 0.0
    for t in speech_windows(chunks, start, end):
        tones = max(tone_level(chunks, hz, t, t + 0.1) for hz in (*CHIME_HZ, AGENT_HZ))
        if tones < 0.5 * rms(chunks, t, t + 0.1) or tones < HEARD:
            seconds += 0.1
    return seconds
