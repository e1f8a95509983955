"""The seed user's two agents after adoption (examples/byo, docs/adopt.md) over real SIP.

One stack: the SIP dispatch rule made by ``switchboard rules apply --sip`` from
examples/byo/rules.yaml (replacing the user's own rule), ``switchboard serve`` with the same
rules behind the server's webhooks, and the two programs as real workers.

* A call: only ``qualifier`` in the caller's room (an unnamed worker stays out, as his old
  deployment would during the migration); the qualifier starts a new room holding only
  ``outbound-caller``, which dials the human (sipp, 1000 Hz) into the caller's room and briefs
  them while the caller (sipp, 600 Hz) is on hold. The phones' RTP proves the caller never hears
  the consultation and that, once the human presses 1, both hear each other with no agent left.
* A room created with metadata: ``switchboard serve`` dispatches exactly ``outbound-caller``,
  which calls the number from the metadata and leaves when a person joins from the web.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api

from tests.integration.adopt.conftest import (
    CALLED,
    HUMAN_NUMBER,
    ByoSystem,
    byo_system,
)
from tests.integration.adopt.observe import AGENT, RoomsWatch, end_calls
from tests.integration.callflow.observe import Monitor, caller_room, participants
from tests.support.participants import eventually, join
from tests.support.rtp_capture import Chunk, RtpCapture, tone_level
from tests.support.sipp import (
    free_media_port,
    start_tone_dtmf_caller,
    start_tone_uas,
    start_uas,
)
from tests.support.workers import start_probe_workers

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]

CALLER_HZ, HUMAN_HZ = 600.0, 1000.0
PRESS_AFTER_MS = 9000
"""The human listens to the brief this long before pressing 1."""
HEARD, LEAK = 0.2, 0.2
"""Tone levels (fraction of full scale), as in tests/integration/callflow/test_warm_transfer.py:
the phones hum at 0.5; a leak is a tone above LEAK in any quarter second."""


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ByoSystem]:
    workdir: Path = tmp_path_factory.mktemp("byo-adopted")
    with byo_system(workdir, before=False) as system:
        yield system


@pytest.fixture
async def adopted_api(adopted: ByoSystem) -> AsyncIterator[api.LiveKitAPI]:
    client = adopted.client()
    try:
        yield client
    finally:
        await client.aclose()


def _levels(chunks: list[Chunk], start: float, end: float) -> dict[float, float]:
    return {hz: round(tone_level(chunks, hz, start, end), 3) for hz in (CALLER_HZ, HUMAN_HZ)}


def _peaks(chunks: list[Chunk], start: float, end: float) -> dict[float, float]:
    """The loudest quarter second of each tone in [start, end)."""
    starts = [start + 0.25 * i for i in range(int((end - start) / 0.25))]
    return {
        hz: round(max(tone_level(chunks, hz, t, t + 0.25) for t in starts), 3)
        for hz in (CALLER_HZ, HUMAN_HZ)
    }


def test_the_users_rule_is_migrated_with_a_dry_run_first(adopted: ByoSystem) -> None:
    """docs/adopt.md step 3 shows this dry run; it must plan exactly the qualifier's rule."""
    plan = adopted.apply_dry_run
    print(plan)
    assert "switchboard:inbound-qualifier" in plan, plan


async def test_call_qualifier_then_outbound_caller_alone_in_a_new_room_then_warm_transfer(
    adopted: ByoSystem, adopted_api: api.LiveKitAPI
) -> None:
    stack, lkapi, host = adopted.stack, adopted_api, adopted.stack.config.node_ip
    caller = "+15557770201"
    # His old deployment, still running during the migration: an unnamed worker.
    unnamed = start_probe_workers(stack, [""], adopted.workdir)
    caller_media, human_media = free_media_port(host), free_media_port(host)
    at_caller = RtpCapture(adopted.workdir, caller_media, "heard-by-caller").start()
    at_human = RtpCapture(adopted.workdir, human_media, "heard-by-human").start()
    human = start_tone_uas(
        adopted.workdir,
        host,
        port=adopted.human_port,
        tone_hz=HUMAN_HZ,
        hold_ms=40000,
        press="1",
        press_after_ms=PRESS_AFTER_MS,
        media_port=human_media,
    )
    phone = start_tone_dtmf_caller(
        adopted.workdir,
        host,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=6,
        hold_ms=35000,
        media_port=caller_media,
    )
    watch = RoomsWatch(lkapi)
    try:
        room = await caller_room(lkapi, caller)

        async def human_active() -> bool:
            people = await participants(lkapi, room)
            return any(
                p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER
                and p.attributes.get("sip.callStatus") == "active"
                for p in people
            )

        await eventually(human_active, timeout=120)
        answered_at = time.time()

        async def no_agent_left() -> bool:
            return not any(p.kind == AGENT for p in await participants(lkapi, room))

        # Both agents leave once the human pressed 1 and the two are connected.
        await eventually(no_agent_left, timeout=PRESS_AFTER_MS / 1000 + 25)
        connected_at = time.time()
        assert connected_at - answered_at > PRESS_AFTER_MS / 1000 - 1, "connected before the 1"
        people = await participants(lkapi, room)
        assert sorted(p.attributes.get("sip.phoneNumber") for p in people) == sorted(
            [caller, HUMAN_NUMBER]
        )
        await asyncio.sleep(5)  # both talk with nobody else in the room

        heard_by_caller, heard_by_human = list(at_caller), list(at_human)
        pressed = answered_at + PRESS_AFTER_MS / 1000
        briefing = (answered_at, pressed - 0.5)
        after = (connected_at + 1, connected_at + 5)
        caller_leak, human_leak = (
            _peaks(heard_by_caller, *briefing),
            _peaks(heard_by_human, *briefing),
        )
        caller_after, human_after = (
            _levels(heard_by_caller, *after),
            _levels(heard_by_human, *after),
        )
        report = (
            f"briefing peaks: caller {caller_leak} human {human_leak}; "
            f"after: caller {caller_after} human {human_after}"
        )
        print(report)
        assert caller_leak[HUMAN_HZ] < LEAK, f"the caller heard the consultation: {report}"
        assert human_leak[CALLER_HZ] < LEAK, f"the human heard the caller early: {report}"
        assert caller_after[HUMAN_HZ] > HEARD, f"the caller cannot hear the human: {report}"
        assert human_after[CALLER_HZ] > HEARD, f"the human cannot hear the caller: {report}"

        # Exactly one named agent per room, never the default one.
        [second] = watch.rooms("room_")
        assert watch.dispatches[room] == {"qualifier"}, watch.dispatches
        assert watch.dispatches[second] == {"outbound-caller"}, watch.dispatches
        # In the caller's room: the qualifier's job, and the outbound-caller's own connection
        # for the transfer (an agent participant it joins with a token, not a dispatched job).
        assert watch.agents[room] == {"qualifier", ""}, watch.agents
        tokens = [i for i in watch.agent_identities[room] if i.startswith("outbound-caller-")]
        assert len(watch.agent_identities[room]) == 2 and len(tokens) == 1, watch.agent_identities
        assert watch.agents[second] == {"outbound-caller"}, watch.agents
        assert unnamed.jobs() == [], "the unnamed worker was dispatched"
        await asyncio.to_thread(phone.wait_exit, 60)
        await asyncio.to_thread(human.wait_exit, 60)
    finally:
        await watch.stop()
        await end_calls(lkapi, sorted(watch.dispatches))
        phone.stop()
        human.stop()
        at_caller.stop()
        at_human.stop()
        unnamed.stop()


async def test_human_declines_then_the_qualifier_says_its_fallback_and_the_brief_stays_private(
    adopted: ByoSystem, adopted_api: api.LiveKitAPI
) -> None:
    stack, lkapi, host = adopted.stack, adopted_api, adopted.stack.config.node_ip
    caller = "+15557770202"
    human = start_tone_uas(
        adopted.workdir,
        host,
        port=adopted.human_port,
        tone_hz=HUMAN_HZ,
        hold_ms=40000,
        press="2",
        press_after_ms=4000,
    )
    phone = start_tone_dtmf_caller(
        adopted.workdir,
        host,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=6,
        hold_ms=35000,
    )
    watch = RoomsWatch(lkapi)
    monitor = Monitor()  # reads lk.transcription as a browser caller would
    try:
        room = await caller_room(lkapi, caller)
        await monitor.connect(stack, room)

        async def fallback_said() -> bool:
            return any("nobody is free" in line for _, line in monitor.lines)

        await eventually(fallback_said, timeout=120)
        people = await participants(lkapi, room)
        assert all(p.attributes.get("sip.phoneNumber") != HUMAN_NUMBER for p in people), (
            "the human's call was not ended"
        )
        agents = [p.attributes.get("lk.agent_name") for p in people if p.kind == AGENT]
        assert agents == ["qualifier"], agents
        [outbound] = [i for i in watch.agent_identities[room] if i.startswith("outbound-caller-")]
        senders = {identity for identity, _ in monitor.lines}
        assert outbound not in senders, (
            f"the brief reached the caller's room as text: {monitor.lines}"
        )
    finally:
        await monitor.close()
        await watch.stop()
        await end_calls(lkapi, sorted(watch.dispatches))
        phone.stop()
        human.stop()


async def test_a_room_created_with_metadata_gets_only_the_outbound_caller_which_calls(
    adopted: ByoSystem, adopted_api: api.LiveKitAPI
) -> None:
    """examples/byo/rules.yaml `outbound-by-metadata`, decided by `switchboard serve` on the
    room_started webhook; the agent leaves when a representative joins from the web."""
    stack, lkapi, host = adopted.stack, adopted_api, adopted.stack.config.node_ip
    human = start_tone_uas(
        adopted.workdir, host, port=adopted.human_port, tone_hz=HUMAN_HZ, hold_ms=40000
    )
    room = f"outbound-{uuid.uuid4().hex[:6]}"
    metadata = {"flow": "outbound", "phone_number": HUMAN_NUMBER, "brief": "Returning a call."}
    watch = RoomsWatch(lkapi)
    representative = None
    try:
        await lkapi.room.create_room(
            api.CreateRoomRequest(name=room, metadata=json.dumps(metadata))
        )

        async def human_active() -> bool:
            return any(
                p.attributes.get("sip.callStatus") == "active"
                for p in await participants(lkapi, room)
            )

        await eventually(human_active, timeout=90)
        await watch.caught_up()  # the agent stays until the representative joins
        assert watch.agents[room] == {"outbound-caller"}, watch.agents
        [callee] = [p for p in await participants(lkapi, room) if p.kind != AGENT]
        assert callee.attributes.get("sip.phoneNumber") == HUMAN_NUMBER, callee.attributes

        representative = await join(stack, room, "representative-1")

        async def no_agent_left() -> bool:
            return not any(p.kind == AGENT for p in await participants(lkapi, room))

        await eventually(no_agent_left, timeout=20)
        people = sorted(p.identity for p in await participants(lkapi, room))
        assert people == sorted([callee.identity, "representative-1"]), people
        assert watch.agents[room] == {"outbound-caller"}, watch.agents
        assert "qualifier" not in watch.dispatches[room], watch.dispatches
    finally:
        await watch.stop()
        if representative is not None:
            await representative.disconnect()
        await end_calls(lkapi, [room])
        human.stop()


async def test_his_482_arrives_as_loop_detected_with_the_fix(
    adopted: ByoSystem, adopted_api: api.LiveKitAPI
) -> None:
    """The carrier's 482 he saw as "twirp error unknown: ... 482 (LOOP_DETECTED)" reaches his
    outbound-caller as ``LoopDetected``, whose message says what to fix; it leaves the room."""
    lkapi, host = adopted_api, adopted.stack.config.node_ip
    carrier = start_uas(adopted.workdir, host, 482, "Loop Detected", port=adopted.human_port)
    room = f"outbound-{uuid.uuid4().hex[:6]}"
    metadata = {"flow": "outbound", "phone_number": "+19497710000"}
    log = next(adopted.workdir.glob("agent-byo-agent.log"))
    seen = len(log.read_text(errors="replace"))
    try:
        await lkapi.room.create_room(
            api.CreateRoomRequest(name=room, metadata=json.dumps(metadata))
        )

        async def logged() -> bool:
            return "SIP 482 Loop Detected" in log.read_text(errors="replace")[seen:]

        await eventually(logged, timeout=60)
        [line] = [
            json.loads(line)["message"]
            for line in log.read_text(errors="replace")[seen:].splitlines()
            if "SIP 482 Loop Detected" in line
        ]
        assert line.startswith("could not call +19497710000: SIP 482 Loop Detected"), line
        assert "Fix: dial a number outside" in line, line

        async def agent_left() -> bool:
            return not any(p.kind == AGENT for p in await participants(lkapi, room))

        await eventually(agent_left, timeout=20)
    finally:
        await end_calls(lkapi, [room])
        carrier.stop()
