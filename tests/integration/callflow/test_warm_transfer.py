"""Warm transfer over real SIP on the open-source server, proven at each phone's RTP port.

sipp calls the seed number humming 600 Hz and answers the qualifier by DTMF; the qualifier puts
it on hold (440/554 Hz chimes) and dispatches `outbound-caller`, which dials the human (a sipp
humming 1000 Hz) into the caller's room and briefs them. tcpdump captures what arrives at each
phone: during the briefing the caller hears the hold chime and never the human, the human never
hears the caller; after the human presses 1 each hears the other, every agent is gone and the
room stays open for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from livekit import api

from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    HUMAN_NUMBER,
    CallFlowSystem,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import (
    AGENT,
    Monitor,
    caller_room,
    participants,
    room_open,
)
from tests.support.participants import eventually
from tests.support.rtp_capture import Chunk, RtpCapture, tone_level
from tests.support.sipp import free_media_port, start_tone_dtmf_caller, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]

CALLER_HZ, HUMAN_HZ, HOLD_HZ = 600.0, 1000.0, 440.0
PRESS_AFTER_MS = 9000
"""The human listens to the brief this long before pressing a key."""
DECISION_SECONDS = 12
HEARD, LEAK = 0.2, 0.2
"""Tone levels (fraction of full scale). The phones hum at 0.5 and arrive at about that level;
the hold tone is set to 0.3. A leak is a tone above LEAK in any quarter second: speech (the
brief, "please hold") peaks below 0.1 at a single frequency."""


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    override = {
        "transfer": {
            "targets": {"desk": {"handoff": "warm", "decision_seconds": DECISION_SECONDS}},
            "hold": {"tones_hz": [HOLD_HZ], "gap_ms": 0, "level": 0.3},
        },
        "timeouts": {"answer_seconds": 4},
    }
    with start_callflow_system(tmp_path_factory, override, "warm") as system:
        yield system


@pytest.fixture
async def warm_api(warm: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(warm) as client:
        yield client


class RoomTimeline:
    """Polls the caller's room: when each step was first seen (wall clock), who was there."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.seen: dict[str, float] = {}
        self.agents_seen: set[str] = set()
        self.dispatches_seen: set[str] = set()
        self.attributes: dict[str, dict[str, str]] = {}
        self.identities: dict[str, str] = {}
        self._task = asyncio.create_task(self._run())

    def _mark(self, step: str) -> None:
        self.seen.setdefault(step, time.time())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(api.TwirpError):
                response = await self.lkapi.room.list_participants(
                    api.ListParticipantsRequest(room=self.room)
                )
                for p in response.participants:
                    if p.kind == AGENT:
                        name = p.attributes.get("lk.agent_name", "")
                        self.agents_seen.add(name)
                        self.attributes[name] = dict(p.attributes)
                        self.identities[name] = p.identity
                        if name == "outbound-caller":
                            self._mark(f"transfer:{p.attributes.get('switchboard.transfer')}")
                        if name == "qualifier":
                            self._mark(f"qualifier:{p.attributes.get('switchboard.state')}")
                    if p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER:
                        self._mark(f"human:{p.attributes.get('sip.callStatus')}")
                dispatches = await self.lkapi.agent_dispatch.list_dispatch(room_name=self.room)
                self.dispatches_seen.update(d.agent_name for d in dispatches)
            await asyncio.sleep(0.2)

    async def wait_for(self, *steps: str, timeout: float) -> float:
        """When the first of ``steps`` was seen."""

        async def reached() -> bool:
            return any(step in self.seen for step in steps)

        await eventually(reached, timeout=timeout)
        return min(self.seen[step] for step in steps if step in self.seen)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _end_calls(lkapi: api.LiveKitAPI, room: str) -> None:
    """End a failed test's calls while its phones still answer BYE: livekit-sip retransmits an
    unanswered BYE for half a minute, into the next test's phone on the same port."""
    with contextlib.suppress(api.TwirpError):
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        await asyncio.sleep(1)


def _levels(chunks: list[Chunk], start: float, end: float) -> dict[float, float]:
    return {
        hz: round(tone_level(chunks, hz, start, end), 3) for hz in (CALLER_HZ, HUMAN_HZ, HOLD_HZ)
    }


def _peaks(chunks: list[Chunk], start: float, end: float) -> dict[float, float]:
    """The loudest quarter second of each tone in [start, end)."""
    starts = [start + 0.25 * i for i in range(int((end - start) / 0.25))]
    return {
        hz: round(max(tone_level(chunks, hz, t, t + 0.25) for t in starts), 3)
        for hz in (CALLER_HZ, HUMAN_HZ, HOLD_HZ)
    }


async def test_human_accepts_then_caller_and_human_hear_each_other_and_every_ai_leaves(
    warm: CallFlowSystem, warm_api: api.LiveKitAPI
) -> None:
    stack, lkapi, host = warm.stack, warm_api, warm.stack.config.node_ip
    caller = "+15557770001"
    caller_media, human_media = free_media_port(host), free_media_port(host)
    at_caller = RtpCapture(warm.workdir, caller_media, "heard-by-caller").start()
    at_human = RtpCapture(warm.workdir, human_media, "heard-by-human").start()
    human = start_tone_uas(
        warm.workdir,
        host,
        port=warm.human_port,
        tone_hz=HUMAN_HZ,
        hold_ms=40000,
        press="1",
        press_after_ms=PRESS_AFTER_MS,
        media_port=human_media,
    )
    phone = start_tone_dtmf_caller(
        warm.workdir,
        host,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=8,
        hold_ms=30000,
        media_port=caller_media,
    )
    timeline: RoomTimeline | None = None
    monitor = Monitor()  # reads lk.transcription as a browser caller would
    try:
        room = await caller_room(lkapi, caller)
        timeline = RoomTimeline(lkapi, room)
        await monitor.connect(stack, room)
        answered = await timeline.wait_for("human:active", timeout=120)
        connected = await timeline.wait_for(
            "transfer:connected", timeout=PRESS_AFTER_MS / 1000 + 20
        )
        assert connected - answered > PRESS_AFTER_MS / 1000 - 1, (
            "connected before the human pressed 1"
        )

        async def no_agent_left() -> bool:
            return not any(p.kind == AGENT for p in await participants(lkapi, room))

        await eventually(no_agent_left, timeout=20)
        left_at = time.monotonic()
        await monitor.close()
        senders = {identity for identity, _ in monitor.lines}
        assert timeline.identities["qualifier"] in senders, "the monitor read no transcript"
        assert timeline.identities["outbound-caller"] not in senders, (
            f"the brief reached the caller's room as text: {monitor.lines}"
        )
        people = [p for p in await participants(lkapi, room) if p.identity != "monitor"]
        assert sorted(p.attributes.get("sip.phoneNumber") for p in people) == sorted(
            [caller, HUMAN_NUMBER]
        )
        await asyncio.sleep(5)  # both talk for a while with nobody else in the room

        heard_by_caller, heard_by_human = list(at_caller), list(at_human)
        pressed = answered + PRESS_AFTER_MS / 1000
        briefing = (answered, pressed - 0.5)  # from the answer: no leak even at the start
        on_hold = (answered + 5, pressed - 0.5)  # "please hold" has been said by then
        after = (connected + 1, connected + 5)
        caller_leak, human_leak = (
            _peaks(heard_by_caller, *briefing),
            _peaks(heard_by_human, *briefing),
        )
        caller_hold = _levels(heard_by_caller, *on_hold)
        caller_after, human_after = (
            _levels(heard_by_caller, *after),
            _levels(heard_by_human, *after),
        )
        report = (
            f"briefing peaks: caller {caller_leak} human {human_leak}; caller on hold "
            f"{caller_hold}; after: caller {caller_after} human {human_after}"
        )
        print(report)
        assert caller_leak[HUMAN_HZ] < LEAK, f"the caller heard the consultation: {report}"
        assert human_leak[CALLER_HZ] < LEAK, f"the human heard the caller early: {report}"
        assert caller_hold[HOLD_HZ] > HEARD, f"no hold audio: {report}"
        assert caller_after[HUMAN_HZ] > HEARD, f"the caller cannot hear the human: {report}"
        assert human_after[CALLER_HZ] > HEARD, f"the human cannot hear the caller: {report}"
        assert caller_after[HOLD_HZ] < LEAK, f"hold audio went on: {report}"
        assert connected - pressed < 3, "accept to connected took too long"

        assert timeline.agents_seen == {"qualifier", "outbound-caller"}
        assert timeline.dispatches_seen == {"qualifier", "outbound-caller"}
        assert warm.unnamed.jobs(room) == []

        await asyncio.sleep(max(0.0, 2 * DEPARTURE_TIMEOUT - (time.monotonic() - left_at)))
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
        assert [r.name for r in rooms.rooms] == [room], "the room stays open for the humans"
        # Both hang up by themselves (BYE from each phone), the caller first.
        await asyncio.to_thread(phone.wait_exit, 60)
        await asyncio.to_thread(human.wait_exit, 60)

        async def closed() -> bool:
            return not await room_open(lkapi, room)

        await eventually(closed, timeout=DEPARTURE_TIMEOUT + 15)
    finally:
        await monitor.close()
        if timeline is not None:
            await timeline.stop()
            await _end_calls(lkapi, timeline.room)
        phone.stop()
        human.stop()
        at_caller.stop()
        at_human.stop()


@pytest.mark.parametrize(
    ("press", "outcome"), [("2", "declined"), (None, "no_decision")], ids=["declines", "voicemail"]
)
async def test_human_declines_or_never_decides_caller_is_back_with_the_qualifier(
    warm: CallFlowSystem, warm_api: api.LiveKitAPI, press: str | None, outcome: str
) -> None:
    stack, lkapi, host = warm.stack, warm_api, warm.stack.config.node_ip
    caller = f"+1555777{outcome[:4].encode().hex()[:4]}"
    caller_media = free_media_port(host)
    at_caller = RtpCapture(warm.workdir, caller_media, f"heard-by-caller-{outcome}").start()
    human = start_tone_uas(
        warm.workdir,
        host,
        port=warm.human_port,
        tone_hz=HUMAN_HZ,
        hold_ms=60000,
        press=press,
        press_after_ms=PRESS_AFTER_MS,
    )
    phone = start_tone_dtmf_caller(
        warm.workdir,
        host,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=12,
        hold_ms=60000,
        media_port=caller_media,
    )
    timeline: RoomTimeline | None = None
    try:
        room = await caller_room(lkapi, caller)
        timeline = RoomTimeline(lkapi, room)
        await timeline.wait_for("human:active", timeout=120)
        # "fallback" lasts as long as the fallback line; a slow poll may see "ended" first.
        fell_back = await timeline.wait_for(
            "qualifier:fallback", "qualifier:ended", timeout=DECISION_SECONDS + 30
        )
        qualifier = timeline.attributes["qualifier"]
        assert qualifier.get("switchboard.transfer") == outcome, qualifier
        assert qualifier.get("switchboard.error"), qualifier  # says why

        async def human_gone() -> bool:
            people = await participants(lkapi, room)
            return all(p.attributes.get("sip.phoneNumber") != HUMAN_NUMBER for p in people)

        await eventually(human_gone, timeout=10)  # the human's call was ended
        await asyncio.to_thread(human.wait_exit, 10)
        assert not human.process.running()
        await asyncio.sleep(3)
        heard = list(at_caller)
        assert _peaks(heard, heard[0].arrival, time.time())[HUMAN_HZ] < LEAK, "caller heard human"
        back = _peaks(heard, fell_back + 0.5, fell_back + 3)
        assert back[HOLD_HZ] < LEAK, f"hold audio went on after the fallback: {back}"
        assert timeline.agents_seen <= {"qualifier", "outbound-caller"}
        assert "" not in timeline.dispatches_seen
    finally:
        if timeline is not None:
            await timeline.stop()
            await _end_calls(lkapi, timeline.room)
        phone.stop()
        human.stop()
        at_caller.stop()
