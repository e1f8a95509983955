"""A warm transfer that tries the next human, over real SIP, proven at each phone's RTP port.

One stack per ring mode: livekit-server, livekit-sip, the qualifier and the outbound-caller, the
``desk`` target listing three humans (sipp phones, each behind its own outbound trunk). sipp calls
in humming 600 Hz and answers the qualifier by DTMF; tcpdump captures what reaches each phone.

* sequential: busy (486), then no answer, then a human who accepts — the caller hears them;
* sequential: decline (603), a decline at the brief, a human who hangs up during the brief —
  the caller hears the AI again (speech, no hold tone) and it reports ``human_left``;
* the caller hangs up during the brief: the human hears the agent (the "caller has hung up"
  line) and is hung up after it, and nobody else is dialed;
* every human on another call: the caller holds (hold tone) until one frees up, then hears them;
* simultaneous: one human already on a call in another room (one call per human: never dialed),
  one ringing, one who answers and accepts — the ringing phone is cancelled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from livekit import api, rtc

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    SEED_RULES,
    _setup_sip,
    agents_config,
    start_agent,
)
from tests.integration.callflow.observe import AGENT, Monitor, caller_room
from tests.support.participants import eventually
from tests.support.rtp_capture import Chunk, RtpCapture, rms, tone_level
from tests.support.sipp import (
    Sipp,
    free_media_port,
    start_ringing_uas,
    start_tone_dtmf_caller,
    start_tone_uas,
    start_uas,
)

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]

CALLER_HZ, HOLD_HZ = 600.0, 440.0
HUMAN_HZ = (1000.0, 1200.0, 1400.0)
NUMBERS = ("+15558675301", "+15558675302", "+15558675303")
RING_SECONDS = 5
DECISION_SECONDS = 15
PRESS_AFTER_MS = 7000
BUSY_WAIT_SECONDS = 25
ATTEMPTS = "switchboard.attempts"
HEARD, LEAK, SPEECH = 0.2, 0.2, 0.01
"""Tone levels as in callflow/test_warm_transfer.py; SPEECH: the RMS above which a phone hears
the agent talk (espeak speech arrives at 0.03-0.1; a silent line at 0)."""


@dataclass
class Team:
    stack: Stack
    ports: tuple[int, int, int]
    trunks: tuple[str, str, str]
    workdir: Any


@contextlib.contextmanager
def start_team(
    tmp_path_factory: pytest.TempPathFactory, ring: str, busy_wait: float = 0
) -> Iterator[Team]:
    """A stack whose ``desk`` target lists three humans, each behind its own trunk and port."""
    workdir = tmp_path_factory.mktemp(f"team-{ring}")
    stack = Stack.create(
        f"team-{uuid.uuid4().hex[:6]}",
        StackConfig(departure_timeout=DEPARTURE_TIMEOUT, empty_timeout=60),
    )
    stack.start(lambda _m: None)
    processes: list[ManagedProcess] = []
    try:
        ports = (free_port(), free_port(), free_port())
        first = _setup_sip(stack, ports[0], SEED_RULES, [CALLED])
        trunks = (first, *asyncio.run(_more_trunks(stack, ports[1:])))
        humans = [
            {"number": n, "sip_trunk_id": t, "ring_seconds": RING_SECONDS}
            for n, t in zip(NUMBERS, trunks, strict=True)
        ]
        override = {
            "transfer": {
                "targets": {
                    "desk": {
                        "number": "",
                        "sip_trunk_id": "",
                        "humans": humans,
                        "ring": ring,
                        "decision_seconds": DECISION_SECONDS,
                        "busy_wait_seconds": busy_wait,
                    }
                },
                "hold": {"tones_hz": [HOLD_HZ], "gap_ms": 0, "level": 0.3},
            },
            "timeouts": {"answer_seconds": 4},
        }
        config = agents_config(workdir, first, override)
        for name in ("qualifier", "outbound-caller"):
            processes.append(start_agent(stack, name, config, workdir))
        yield Team(stack, ports, (trunks[0], trunks[1], trunks[2]), workdir)
    finally:
        for process in processes:
            process.stop()
        stack.stop()


async def _more_trunks(stack: Stack, ports: tuple[int, ...]) -> list[str]:
    lkapi = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
    try:
        return await _trunks(lkapi, stack, ports)
    finally:
        await lkapi.aclose()


async def _trunks(lkapi: api.LiveKitAPI, stack: Stack, ports: tuple[int, ...]) -> list[str]:
    """An outbound trunk to a phone at each of ``ports``."""
    trunks = []
    for port in ports:
        trunk = await lkapi.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name=f"to phone {port}",
                    address=f"{stack.config.node_ip}:{port}",
                    numbers=["+15550100000"],
                )
            )
        )
        trunks.append(trunk.sip_trunk_id)
    return trunks


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with start_team(tmp_path_factory, "sequential", busy_wait=BUSY_WAIT_SECONDS) as team:
        yield team


@pytest.fixture(scope="module")
def simultaneous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    with start_team(tmp_path_factory, "simultaneous") as team:
        yield team


@contextlib.asynccontextmanager
async def team_api(team: Team) -> AsyncIterator[api.LiveKitAPI]:
    config = team.stack.config
    client = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        yield client
    finally:
        await client.aclose()


class Watch:
    """Polls a room: each agent's attributes, when each value was first seen, who is in it."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.agents: dict[str, dict[str, str]] = {}
        self.seen: dict[str, float] = {}
        self.present: dict[str, tuple[float, float]] = {}
        """Phone number (sip.phoneNumber) → when first and last seen in the room."""
        self.live: dict[str, dict[str, str]] = {}
        """Each agent's attributes as a hidden participant's events report them: the last ones
        arrive even when the agent leaves right after publishing them."""
        self.monitor = Monitor()
        self.monitor.room.on("participant_attributes_changed", self._on_attributes)
        self._task = asyncio.create_task(self._run())

    async def listen(self, stack: Stack) -> Watch:
        await self.monitor.connect(stack, self.room)
        return self

    def _on_attributes(self, _changed: dict[str, str], participant: rtc.Participant) -> None:
        name = participant.attributes.get("lk.agent_name", "")
        if name:
            self.live[name] = dict(participant.attributes)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(api.TwirpError):
                response = await self.lkapi.room.list_participants(
                    api.ListParticipantsRequest(room=self.room)
                )
                now = time.time()
                for p in response.participants:
                    number = p.attributes.get("sip.phoneNumber", "")
                    if number:
                        first, _ = self.present.get(number, (now, now))
                        self.present[number] = (first, now)
                    if p.kind == AGENT:
                        name = p.attributes.get("lk.agent_name", "")
                        self.agents[name] = dict(p.attributes)
                        for key in ("switchboard.state", "switchboard.transfer"):
                            self.seen.setdefault(f"{name}:{p.attributes.get(key)}", now)
            await asyncio.sleep(0.2)

    async def wait_for(self, *steps: str, timeout: float) -> float:
        """When the first of ``steps`` (``agent:value``) was seen."""

        async def reached() -> bool:
            return any(step in self.seen for step in steps)

        await eventually(reached, timeout=timeout)
        return min(self.seen[step] for step in steps if step in self.seen)

    async def attempts(self) -> dict[str, str]:
        """The outbound-caller's ``switchboard.attempts``, by position in the list (1, 2, 3)."""

        async def published() -> bool:
            return ATTEMPTS in self.live.get("outbound-caller", {})

        await eventually(published, timeout=10)
        found: dict[str, str] = json.loads(self.live["outbound-caller"][ATTEMPTS])
        return {identity.rsplit("-", 1)[-1]: outcome for identity, outcome in found.items()}

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.monitor.close()


def _caller(team: Team, caller: str, media_port: int) -> Sipp:
    host = team.stack.config.node_ip
    return start_tone_dtmf_caller(
        team.workdir,
        host,
        team.stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=CALLER_HZ,
        digit="1",
        presses=8,
        hold_ms=70000,
        media_port=media_port,
    )


def _human(team: Team, index: int, *, press: str | None, hold_ms: int, media_port: int) -> Sipp:
    return start_tone_uas(
        team.workdir,
        team.stack.config.node_ip,
        port=team.ports[index],
        tone_hz=HUMAN_HZ[index],
        hold_ms=hold_ms,
        press=press,
        press_after_ms=PRESS_AFTER_MS,
        media_port=media_port,
    )


async def _on_another_call(
    lkapi: api.LiveKitAPI, team: Team, index: int, room: str, trunk: str = ""
) -> str:
    """Put human ``index``'s number on a call in ``room`` (created if needed), through their
    own trunk or ``trunk``; the participant's identity there."""
    with contextlib.suppress(api.TwirpError):
        await lkapi.room.create_room(api.CreateRoomRequest(name=room))
    identity = f"busy-human-{index + 1}"
    await lkapi.sip.create_sip_participant(
        api.CreateSIPParticipantRequest(
            sip_trunk_id=trunk or team.trunks[index],
            sip_call_to=NUMBERS[index],
            room_name=room,
            participant_identity=identity,
            wait_until_answered=True,
        )
    )
    return identity


async def _end(lkapi: api.LiveKitAPI, room: str | None) -> None:
    """End a test's calls while its phones still answer BYE (see test_warm_transfer.py)."""
    if room is not None:
        with contextlib.suppress(api.TwirpError):
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
            await asyncio.sleep(1)


def _report(chunks: list[Chunk], start: float, end: float) -> dict[str, float]:
    levels = {
        f"{hz:g}Hz": round(tone_level(chunks, hz, start, end), 3)
        for hz in (CALLER_HZ, HOLD_HZ, *HUMAN_HZ)
    }
    return levels | {"rms": round(rms(chunks, start, end), 3)}


async def test_busy_then_no_answer_then_the_third_human_accepts_and_the_caller_hears_them(
    sequential: Team,
) -> None:
    team, host = sequential, sequential.stack.config.node_ip
    caller_media, human_media = free_media_port(host), free_media_port(host)
    at_caller = RtpCapture(team.workdir, caller_media, "seq-accept-caller").start()
    phones = [
        start_uas(team.workdir, host, 486, "Busy Here", port=team.ports[0]),
        start_ringing_uas(team.workdir, host, port=team.ports[1]),
        _human(team, 2, press="1", hold_ms=60000, media_port=human_media),
    ]
    caller = "+15557780001"
    phones.append(_caller(team, caller, caller_media))
    watch: Watch | None = None
    async with team_api(team) as lkapi:
        try:
            watch = await Watch(lkapi, await caller_room(lkapi, caller)).listen(team.stack)
            connected = await watch.wait_for("outbound-caller:connected", timeout=120)
            assert await watch.attempts() == {"1": "busy", "2": "no_answer", "3": "connected"}
            await asyncio.sleep(4)
            heard = _report(list(at_caller), connected + 1, connected + 4)
            print(f"caller after connected: {heard}")
            assert heard["1400Hz"] > HEARD, f"the caller does not hear the third human: {heard}"
            assert heard["440Hz"] < LEAK, f"hold audio went on: {heard}"
            assert "CANCEL" in phones[1].messages(), "the ringing phone was never cancelled"
            assert "486 Busy Here" in phones[0].messages()
        finally:
            if watch is not None:
                await watch.stop()
                await _end(lkapi, watch.room)
            for phone in phones:
                phone.stop()
            at_caller.stop()


async def test_declines_then_the_human_hangs_up_during_the_brief_and_the_caller_hears_the_ai(
    sequential: Team,
) -> None:
    team, host = sequential, sequential.stack.config.node_ip
    caller_media = free_media_port(host)
    at_caller = RtpCapture(team.workdir, caller_media, "seq-left-caller").start()
    phones = [
        start_uas(team.workdir, host, 603, "Decline", port=team.ports[0]),
        _human(team, 1, press="2", hold_ms=60000, media_port=free_media_port(host)),
        # Hangs up 5 s after answering: the brief and the accept prompt take longer.
        _human(team, 2, press=None, hold_ms=5000, media_port=free_media_port(host)),
    ]
    caller = "+15557780002"
    phones.append(_caller(team, caller, caller_media))
    watch: Watch | None = None
    async with team_api(team) as lkapi:
        try:
            watch = await Watch(lkapi, await caller_room(lkapi, caller)).listen(team.stack)
            back = await watch.wait_for("qualifier:fallback", "qualifier:ended", timeout=130)
            qualifier = watch.agents["qualifier"]
            assert qualifier.get("switchboard.transfer") == "human_left", qualifier
            assert await watch.attempts() == {"1": "declined", "2": "declined", "3": "human_left"}
            await asyncio.sleep(4)
            heard = list(at_caller)
            on_hold = _report(heard, back - 4, back - 0.5)
            after = _report(heard, back + 0.3, back + 3.5)
            print(f"caller on hold: {on_hold}; after the fallback: {after}")
            assert on_hold["440Hz"] > HEARD, f"no hold audio while the humans were tried: {on_hold}"
            assert after["440Hz"] < LEAK, f"hold audio went on: {after}"
            assert after["rms"] > SPEECH, f"the caller does not hear the AI again: {after}"
            for hz in HUMAN_HZ[1:]:
                assert tone_level(heard, hz) < LEAK, f"the caller heard a human's briefing: {hz}"
        finally:
            if watch is not None:
                await watch.stop()
                await _end(lkapi, watch.room)
            for phone in phones:
                phone.stop()
            at_caller.stop()


async def test_caller_hangs_up_during_the_brief_the_human_hears_it_then_is_hung_up(
    sequential: Team,
) -> None:
    team, host = sequential, sequential.stack.config.node_ip
    human_media = free_media_port(host)
    at_human = RtpCapture(team.workdir, human_media, "seq-caller-left-human").start()
    human = _human(team, 0, press=None, hold_ms=60000, media_port=human_media)
    nobody_else = start_uas(team.workdir, host, 200, port=team.ports[1])
    caller = "+15557780003"
    phone = _caller(team, caller, free_media_port(host))
    watch: Watch | None = None
    async with team_api(team) as lkapi:
        try:
            watch = await Watch(lkapi, await caller_room(lkapi, caller)).listen(team.stack)
            briefing = await watch.wait_for("outbound-caller:briefing", timeout=120)
            await asyncio.sleep(max(0.0, briefing + 3 - time.time()))
            # The caller hangs up: livekit-sip ends the caller's call (BYE to sipp) as the
            # caller's own BYE would, and the room sees the caller leave.
            identity = next(
                p.identity
                for p in (
                    await lkapi.room.list_participants(api.ListParticipantsRequest(room=watch.room))
                ).participants
                if p.attributes.get("sip.phoneNumber") == caller
            )
            left = time.time()
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=watch.room, identity=identity)
            )

            async def human_gone() -> bool:
                first_last = watch.present.get(NUMBERS[0])
                return first_last is not None and time.time() - first_last[1] > 1

            await eventually(human_gone, timeout=20)
            hung_up = watch.present[NUMBERS[0]][1]
            await asyncio.to_thread(human.wait_exit, 10)
            told = _report(list(at_human), left + 0.5, hung_up)
            print(f"human after the caller left ({hung_up - left:.1f} s): {told}")
            assert hung_up - left > 2, "the human was hung up without being told"
            assert told["rms"] > SPEECH, f"the human heard nothing after the caller left: {told}"
            assert told["600Hz"] < LEAK, f"the human heard the caller: {told}"
            await asyncio.sleep(2)
            assert "INVITE" not in nobody_else.messages(), "the next human was dialed"
        finally:
            if watch is not None:
                await watch.stop()
                await _end(lkapi, watch.room)
            human.stop()
            nobody_else.stop()
            phone.stop()
            at_human.stop()


async def test_every_human_on_a_call_the_caller_holds_until_one_frees_up_then_is_connected(
    sequential: Team,
) -> None:
    team, host = sequential, sequential.stack.config.node_ip
    caller_media = free_media_port(host)
    at_caller = RtpCapture(team.workdir, caller_media, "seq-all-busy-caller").start()
    busy = [
        _human(team, i, press=None, hold_ms=100000, media_port=free_media_port(host))
        for i in range(2)
    ]
    # The third human's other call reaches a phone of its own (same number, another trunk),
    # so the third human's phone is free to ring the moment that call ends.
    decoy_port = free_port()
    decoy = start_tone_uas(
        team.workdir,
        host,
        port=decoy_port,
        tone_hz=1600.0,
        hold_ms=100000,
        media_port=free_media_port(host),
    )
    third = _human(team, 2, press="1", hold_ms=60000, media_port=free_media_port(host))
    phones = [*busy, decoy, third]
    watch: Watch | None = None
    elsewhere = f"elsewhere-{uuid.uuid4().hex[:6]}"
    async with team_api(team) as lkapi:
        try:
            (decoy_trunk,) = await _trunks(lkapi, team.stack, (decoy_port,))
            identities = [await _on_another_call(lkapi, team, i, elsewhere) for i in range(2)]
            identities.append(await _on_another_call(lkapi, team, 2, elsewhere, decoy_trunk))
            caller = "+15557780005"
            phones.append(_caller(team, caller, caller_media))
            watch = await Watch(lkapi, await caller_room(lkapi, caller)).listen(team.stack)
            waiting = await watch.wait_for("outbound-caller:dialing", timeout=120)
            await asyncio.sleep(max(0.0, waiting + 6 - time.time()))
            # The third human's other call ends; the same phone (a new sipp) takes the next.
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=elsewhere, identity=identities[2])
            )
            freed = time.time()
            connected = await watch.wait_for("outbound-caller:connected", timeout=60)
            assert await watch.attempts() == {"1": "on_a_call", "2": "on_a_call", "3": "connected"}
            await asyncio.sleep(4)
            heard = list(at_caller)
            held = _report(heard, waiting + 1, freed)
            after = _report(heard, connected + 1, connected + 4)
            print(f"caller while everyone was busy: {held}; after connected: {after}")
            assert held["440Hz"] > HEARD, f"no hold audio while waiting for a human: {held}"
            assert after["1400Hz"] > HEARD, f"the caller does not hear the freed human: {after}"
            for phone in busy:
                assert phone.messages().count("INVITE sip:") == 1, "a busy human was dialed"
            assert third.messages().count("INVITE sip:") == 1, "the third human was dialed twice"
        finally:
            if watch is not None:
                await watch.stop()
                await _end(lkapi, watch.room)
            await _end(lkapi, elsewhere)
            for phone in phones:
                phone.stop()
            at_caller.stop()


async def test_simultaneous_skips_the_human_on_a_call_and_cancels_the_others_on_answer(
    simultaneous: Team,
) -> None:
    team, host = simultaneous, simultaneous.stack.config.node_ip
    caller_media, human_media = free_media_port(host), free_media_port(host)
    at_caller = RtpCapture(team.workdir, caller_media, "sim-caller").start()
    on_a_call = _human(team, 0, press=None, hold_ms=100000, media_port=free_media_port(host))
    phones = [
        on_a_call,
        start_ringing_uas(team.workdir, host, port=team.ports[1]),
        _human(team, 2, press="1", hold_ms=60000, media_port=human_media),
    ]
    watch: Watch | None = None
    elsewhere = f"elsewhere-{uuid.uuid4().hex[:6]}"
    async with team_api(team) as lkapi:
        try:
            # The first human is on another call: dialed into a room of its own first.
            await _on_another_call(lkapi, team, 0, elsewhere)
            caller = "+15557780004"
            phones.append(_caller(team, caller, caller_media))
            watch = await Watch(lkapi, await caller_room(lkapi, caller)).listen(team.stack)
            connected = await watch.wait_for("outbound-caller:connected", timeout=120)
            assert await watch.attempts() == {"1": "on_a_call", "2": "hung_up", "3": "connected"}
            await asyncio.sleep(4)
            heard = _report(list(at_caller), connected + 1, connected + 4)
            print(f"caller after connected: {heard}")
            assert heard["1400Hz"] > HEARD, f"the caller does not hear the human: {heard}"
            assert "CANCEL" in phones[1].messages(), "the ringing phone was not hung up"
            assert on_a_call.messages().count("INVITE sip:") == 1, "a busy human was dialed"
            # From the phones' own SIP traces: the ringing phone may ring for only milliseconds
            # (the third human's phone answers at once), too short for a room poll to see it.
            rung, invited = phones[1].first_message("INVITE"), phones[2].first_message("INVITE")
            answered_at, cancelled = (
                phones[2].first_message("SIP/2.0 200"),
                phones[1].first_message("CANCEL"),
            )
            assert rung is not None and invited is not None and answered_at is not None
            print(f"INVITEs {abs(rung - invited):.3f} s apart")
            assert abs(rung - invited) < 1, "the second human was not rung at the same time"
            assert cancelled is not None and cancelled - answered_at < 3, (
                "the ringing phone was not hung up at once"
            )
        finally:
            if watch is not None:
                await watch.stop()
                await _end(lkapi, watch.room)
            await _end(lkapi, elsewhere)
            for phone in phones:
                phone.stop()
            at_caller.stop()
