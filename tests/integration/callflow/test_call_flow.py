"""Inbound call → qualifier → outbound-caller dials a human → hand-off, end to end over real SIP.

sipp calls the seed number; the SIP dispatch rule that `switchboard rules apply --sip` compiled
from examples/rules/seed.yaml sends the call to `qualifier` only; the caller answers by DTMF; the
qualifier dispatches `outbound-caller` into the caller's room, which dials the human (a second
sipp); when the human answers, both agents leave and the two people keep talking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from pathlib import Path

import pytest
from livekit import api, rtc

from switchboard.stack.stack import Stack
from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    HUMAN_NUMBER,
    CallFlowSystem,
)
from tests.support.participants import eventually
from tests.support.sipp import (
    Sipp,
    start_dtmf_caller,
    start_ringing_uas,
    start_talking_uas,
    start_uas,
)

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]

AGENT = api.ParticipantInfo.Kind.AGENT
SIP = api.ParticipantInfo.Kind.SIP


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


async def _caller_room(lkapi: api.LiveKitAPI, caller: str) -> str:
    found: list[str] = []

    async def exists() -> bool:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [r.name for r in rooms.rooms if r.name.startswith(f"call_{caller}_")]
        return bool(found)

    await eventually(exists, timeout=20)
    return found[0]


def _agent_names(participants: list[api.ParticipantInfo]) -> list[str]:
    return sorted(p.attributes.get("lk.agent_name", "") for p in participants if p.kind == AGENT)


class AgentWatch:
    """Polls the room: every agent name ever seen, and the qualifier's last attributes."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.agents_seen: set[str] = set()
        self.dispatches_seen: set[str] = set()
        self.qualifier: dict[str, str] = {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                participants = await _participants(self.lkapi, self.room)
                self.agents_seen.update(_agent_names(participants))
                for p in participants:
                    if p.attributes.get("lk.agent_name") == "qualifier":
                        self.qualifier = dict(p.attributes)
                dispatches = await self.lkapi.agent_dispatch.list_dispatch(room_name=self.room)
                self.dispatches_seen.update(d.agent_name for d in dispatches)
            except api.TwirpError:
                pass
            await asyncio.sleep(0.3)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _audio_levels(stack: Stack, room: str, identities: list[str]) -> dict[str, float]:
    """RMS of what each identity sends, heard by a hidden recorder that keeps nobody's room open."""
    grant = api.VideoGrants(
        room_join=True, room=room, hidden=True, recorder=True, can_publish=False
    )
    token = (
        api.AccessToken(stack.config.api_key, stack.config.api_secret)
        .with_identity("monitor")
        .with_grants(grant)
        .to_jwt()
    )
    listener = rtc.Room()
    levels = {identity: 0.0 for identity in identities}
    tasks: list[asyncio.Task[None]] = []

    async def measure(track: rtc.Track, identity: str) -> None:
        stream = rtc.AudioStream(track, sample_rate=8000, num_channels=1)
        async for event in stream:
            samples = event.frame.data
            if len(samples):
                rms = math.sqrt(sum(s * s for s in samples) / len(samples))
                levels[identity] = max(levels[identity], rms)

    def on_track(
        track: rtc.Track, _pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and p.identity in levels:
            tasks.append(asyncio.create_task(measure(track, p.identity)))

    listener.on("track_subscribed", on_track)
    await listener.connect(stack.config.url, token)
    try:
        await asyncio.sleep(6)
    finally:
        for task in tasks:
            task.cancel()
        await listener.disconnect()
    return levels


async def test_qualified_caller_is_handed_to_the_human_and_the_ai_leaves(
    callflow: CallFlowSystem, callflow_api: api.LiveKitAPI
) -> None:
    stack, lkapi = callflow.stack, callflow_api
    caller = "+15551230001"
    human = start_talking_uas(
        callflow.workdir, stack.config.node_ip, port=callflow.human_port, hold_ms=25000
    )
    phone = start_dtmf_caller(
        callflow.workdir, stack.config.node_ip, stack.config.sip_address,
        caller=caller, called=CALLED, digit="1", presses=16, hold_ms=30000,
    )  # fmt: skip
    watch: AgentWatch | None = None
    try:
        room = await _caller_room(lkapi, caller)
        watch = AgentWatch(lkapi, room)

        async def human_in_room() -> bool:
            return any(
                p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER
                and p.attributes.get("sip.callStatus") == "active"
                for p in await _participants(lkapi, room)
            )

        await eventually(human_in_room, timeout=90)

        async def no_agent_left() -> bool:
            return not _agent_names(await _participants(lkapi, room))

        await eventually(no_agent_left, timeout=30)
        left_at = time.monotonic()
        sip_people = [p for p in await _participants(lkapi, room) if p.kind == SIP]
        assert sorted(p.attributes["sip.phoneNumber"] for p in sip_people) == sorted(
            [caller, HUMAN_NUMBER]
        )
        assert [p.kind for p in await _participants(lkapi, room)] == [SIP, SIP]

        levels = await _audio_levels(stack, room, [p.identity for p in sip_people])
        assert all(level > 100 for level in levels.values()), levels  # both directions carry audio

        await asyncio.sleep(max(0.0, 2 * DEPARTURE_TIMEOUT - (time.monotonic() - left_at)))
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
        assert [r.name for r in rooms.rooms] == [room], "the room stays open for the humans"

        assert watch.agents_seen == {"qualifier", "outbound-caller"}
        assert watch.dispatches_seen == {"qualifier", "outbound-caller"}  # never the unnamed ""
        assert callflow.unnamed.jobs(room) == []

        await asyncio.to_thread(human.wait_exit, 60)
        await asyncio.to_thread(phone.wait_exit, 60)

        async def closed() -> bool:
            rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
            return not rooms.rooms

        await eventually(closed, timeout=DEPARTURE_TIMEOUT + 15)
    finally:
        if watch is not None:
            await watch.stop()
        phone.stop()
        human.stop()


RINGING = 180  # the human's phone rings until the target's ringing timeout (8 s) ends the call


def _transfer_failures(workdir: Path, room: str) -> list[dict[str, object]]:
    """The qualifier's "transfer failed" records for ``room`` (its log is one JSON per line)."""
    log = workdir / "agent-qualifier.log"
    records = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("message") == "transfer failed" and record.get("room") == room:
                records.append(record)
    return records


@pytest.mark.parametrize(
    ("code", "reason", "outcome", "error"),
    [
        (486, "Busy Here", "busy", "SIP 486 Busy Here"),
        (480, "Temporarily Unavailable", "no_answer", "SIP 480 Temporarily Unavailable"),
        (482, "Loop Detected", "loop_detected", "SIP 482 Loop Detected"),
        (RINGING, "Ringing", "no_answer", "Ringing Timeout"),
    ],
    ids=["busy", "no-answer", "loop-detected", "rings-until-timeout"],
)
async def test_human_unreachable_caller_gets_the_callback_offer_and_the_reason_is_recorded(
    callflow: CallFlowSystem,
    callflow_api: api.LiveKitAPI,
    code: int,
    reason: str,
    outcome: str,
    error: str,
) -> None:
    stack, lkapi = callflow.stack, callflow_api
    caller = f"+1555123{code}"
    node_ip, port = stack.config.node_ip, callflow.human_port
    human: Sipp = (
        start_ringing_uas(callflow.workdir, node_ip, port=port)
        if code == RINGING
        else start_uas(callflow.workdir, node_ip, code, reason, port=port)
    )
    phone = start_dtmf_caller(
        callflow.workdir, stack.config.node_ip, stack.config.sip_address,
        caller=caller, called=CALLED, digit="1", presses=16, hold_ms=5000,
    )  # fmt: skip
    watch: AgentWatch | None = None
    try:
        room = await _caller_room(lkapi, caller)
        watch = AgentWatch(lkapi, room)

        async def fell_back() -> bool:
            assert watch is not None
            return watch.qualifier.get("switchboard.state") in {"fallback", "ended"}

        await eventually(fell_back, timeout=90)
        assert watch.qualifier.get("switchboard.transfer") == outcome
        assert error in watch.qualifier.get("switchboard.error", ""), watch.qualifier
        assert watch.agents_seen <= {"qualifier", "outbound-caller"}
        assert "" not in watch.dispatches_seen

        async def logged() -> bool:
            return bool(_transfer_failures(callflow.workdir, room))

        await eventually(logged, timeout=10)
        (record,) = _transfer_failures(callflow.workdir, room)
        assert record["outcome"] == outcome
        assert error in str(record["error"]), record
        assert record["level"] == "WARNING"
    finally:
        if watch is not None:
            await watch.stop()
        phone.stop()
        human.stop()
