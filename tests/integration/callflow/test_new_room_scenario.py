"""The seed's second scenario: the qualifier hands the caller to a NEW room, the outbound-caller
calls them back there, talks, and leaves when a representative joins from the web.

sipp calls the seed number and answers by DTMF; the `desk` target has `room: new` and
`number: caller`, so the qualifier says goodbye, hangs up the caller, and starts
`outbound-caller` in `callback_<caller>_<id>`, which dials the caller's number (the outbound trunk
points at a talking sipp, the "customer"). A hidden monitor reads the agent's lines on
`lk.transcription`; an rtc participant "rep" (switchboard.role=representative) joins and talks,
the agent leaves, and the rep and the customer keep talking in a room that stays open.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from livekit import api, rtc

from switchboard.stack.stack import Stack
from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    CallFlowSystem,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import Monitor
from tests.support.participants import eventually
from tests.support.sipp import start_dtmf_caller, start_talking_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]

AGENT = api.ParticipantInfo.Kind.AGENT
SIP = api.ParticipantInfo.Kind.SIP
STANDARD = api.ParticipantInfo.Kind.STANDARD
GREETING = "Hello, this is the call back you asked for."
CONFIG_OVERRIDE = {
    "transfer": {
        "targets": {
            "desk": {
                "room": "new",
                "number": "caller",
                "new_room": {
                    "greeting": f"{GREETING} A representative will join shortly.",
                    "departure_timeout_seconds": DEPARTURE_TIMEOUT,
                    "representative_wait_seconds": 90,
                },
            }
        }
    },
}


@pytest.fixture(scope="module")
def new_room_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    with start_callflow_system(tmp_path_factory, CONFIG_OVERRIDE, "callflow-new-room") as system:
        yield system


@pytest.fixture
async def lkapi(new_room_flow: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(new_room_flow) as client:
        yield client


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


class RoomWatch:
    """Polls a room: agent names and dispatches ever seen, each agent's last attributes, and
    when a participant matching ``first_seen`` keys was first listed."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.agents_seen: set[str] = set()
        self.dispatches_seen: set[str] = set()
        self.agents: dict[str, dict[str, str]] = {}
        self.first_seen: dict[str, float] = {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                participants = await _participants(self.lkapi, self.room)
                now = time.monotonic()
                for p in participants:
                    self.first_seen.setdefault(p.identity, now)
                    if p.kind == AGENT:
                        name = p.attributes.get("lk.agent_name", "")
                        self.agents_seen.add(name)
                        self.agents[name] = dict(p.attributes)
                        state = p.attributes.get("switchboard.state", "")
                        self.first_seen.setdefault(f"{name}:{state}", now)
                dispatches = await self.lkapi.agent_dispatch.list_dispatch(room_name=self.room)
                self.dispatches_seen.update(d.agent_name for d in dispatches)
            except api.TwirpError:
                pass
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _token(stack: Stack, room: str, identity: str, **grants: object) -> str:
    return (
        api.AccessToken(stack.config.api_key, stack.config.api_secret)
        .with_identity(identity)
        .with_grants(api.VideoGrants(room_join=True, room=room, **grants))  # type: ignore[arg-type]
        .with_attributes({"switchboard.role": "representative"} if identity == "rep" else {})
        .to_jwt()
    )


class Representative:
    """The human from the web: publishes a 440 Hz tone, measures what each identity sends."""

    def __init__(self) -> None:
        self.room = rtc.Room()
        self.levels: dict[str, float] = {}
        self.left: dict[str, float] = {}
        self.last_attributes: dict[str, dict[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_disconnected", self._on_left)

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        self.left.setdefault(participant.identity, time.monotonic())
        self.last_attributes[participant.identity] = dict(participant.attributes)

    async def join(self, stack: Stack, room: str) -> None:
        await self.room.connect(stack.config.url, _token(stack, room, "rep"))
        source = rtc.AudioSource(48000, 1)
        track = rtc.LocalAudioTrack.create_audio_track("rep-mic", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self._tasks.append(asyncio.create_task(_tone(source)))

    def _on_track(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self._tasks.append(asyncio.create_task(self._measure(track, p.identity)))

    async def _measure(self, track: rtc.Track, identity: str) -> None:
        async for event in rtc.AudioStream(track, sample_rate=8000, num_channels=1):
            samples = event.frame.data
            if len(samples):
                rms = math.sqrt(sum(s * s for s in samples) / len(samples))
                self.levels[identity] = max(self.levels.get(identity, 0.0), rms)

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.room.disconnect()


async def _tone(source: rtc.AudioSource) -> None:
    rate, samples = 48000, 480  # 10 ms frames
    phase = 0
    while True:
        frame = rtc.AudioFrame.create(rate, 1, samples)
        data = frame.data
        for i in range(samples):
            data[i] = int(8000 * math.sin(2 * math.pi * 440 * (phase + i) / rate))
        phase += samples
        await source.capture_frame(frame)


async def test_caller_is_called_back_in_a_new_room_and_the_representative_takes_over(
    new_room_flow: CallFlowSystem, lkapi: api.LiveKitAPI
) -> None:
    stack, system = new_room_flow.stack, new_room_flow
    caller = "+15551230042"
    customer = start_talking_uas(
        system.workdir, stack.config.node_ip, port=system.human_port, hold_ms=45000
    )
    phone = start_dtmf_caller(
        system.workdir,
        stack.config.node_ip,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        digit="1",
        presses=16,
        hold_ms=30000,
    )
    watches: list[RoomWatch] = []
    monitor, rep = Monitor(), Representative()
    times: dict[str, float] = {}
    try:
        caller_room = await _room_named(lkapi, f"call_{caller}_")
        caller_watch = RoomWatch(lkapi, caller_room)
        watches.append(caller_watch)

        async def handed_off() -> bool:
            return bool(caller_watch.agents.get("qualifier", {}).get("switchboard.new_room"))

        await eventually(handed_off, timeout=120)
        qualifier = caller_watch.agents["qualifier"]
        seen = caller_watch.first_seen
        times["decision"] = seen.get("qualifier:handed_off") or seen["qualifier:ended"]
        new_room = qualifier["switchboard.new_room"]
        assert new_room.startswith(f"callback_{caller}_"), new_room
        assert qualifier["switchboard.transfer"] == "new_room"
        assert qualifier["switchboard.result"] == "qualified"
        watch = RoomWatch(lkapi, new_room)
        watches.append(watch)
        await monitor.connect(stack, new_room)

        async def customer_answered() -> bool:
            return any(
                p.kind == SIP and p.attributes.get("sip.callStatus") == "active"
                for p in await _participants(lkapi, new_room)
            )

        await eventually(customer_answered, timeout=60)
        sip = [p for p in await _participants(lkapi, new_room) if p.kind == SIP]
        assert [p.attributes.get("sip.phoneNumber") for p in sip] == [caller]  # called back
        callee = sip[0].identity

        async def watched() -> bool:  # the watch polls on its own clock; let it catch up
            return callee in watch.first_seen

        await eventually(watched, timeout=5)
        times["ringing"] = watch.first_seen[callee]

        async def greeted() -> bool:
            return any(GREETING in text for _, text in monitor.lines)

        await eventually(greeted, timeout=30)
        others = [p for p in await _participants(lkapi, new_room) if p.identity != "monitor"]
        assert sorted((p.kind, p.attributes.get("lk.agent_name", "")) for p in others) == sorted(
            [(AGENT, "outbound-caller"), (SIP, "")]
        )
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=new_room)
        assert [d.agent_name for d in dispatches] == ["outbound-caller"]

        async def waiting() -> bool:  # the watch polls on its own clock; let it catch up
            state = watch.agents.get("outbound-caller", {}).get("switchboard.state")
            return state == "waiting_for_representative"

        await eventually(waiting, timeout=10)
        agent = watch.agents["outbound-caller"]
        assert agent["switchboard.callee"] == sip[0].identity
        assert "qualified" in agent["switchboard.brief"]
        speaker = next(identity for identity, text in monitor.lines if GREETING in text)
        assert speaker == next(p.identity for p in others if p.kind == AGENT)

        times["rep_joined"] = time.monotonic()
        await rep.join(stack, new_room)

        async def agent_left() -> bool:
            return speaker in rep.left

        await eventually(agent_left, timeout=20)
        times["agent_left"] = rep.left[speaker]
        final = rep.last_attributes[speaker]
        assert final["switchboard.state"] == "done", final
        assert final["switchboard.representative"] == "rep", final

        await asyncio.sleep(2 * DEPARTURE_TIMEOUT)
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[new_room]))
        assert [r.name for r in rooms.rooms] == [new_room], "the room stays open for the humans"
        people = [p for p in await _participants(lkapi, new_room) if p.identity != "monitor"]
        assert sorted((p.kind, p.identity) for p in people) == sorted(
            [(STANDARD, "rep"), (SIP, sip[0].identity)]
        )
        assert rep.levels.get(sip[0].identity, 0.0) > 100, rep.levels  # the customer is heard

        assert watch.agents_seen == {"outbound-caller"}
        assert watch.dispatches_seen == {"outbound-caller"}
        assert caller_watch.agents_seen == {"qualifier"}
        assert caller_watch.dispatches_seen == {"qualifier"}
        assert system.unnamed.jobs(new_room) == []
        assert system.unnamed.jobs(caller_room) == []

        async def caller_hung_up() -> bool:
            return all(p.kind != SIP for p in await _participants(lkapi, caller_room))

        await eventually(caller_hung_up, timeout=10)
    finally:
        for watch_ in watches:
            await watch_.stop()
        await rep.leave()
        await monitor.close()
        phone.stop()
        customer.stop()
        timings = {
            "ringing_after_decision": times.get("ringing", 0) - times.get("decision", 0),
            "agent_left_after_rep_joined": times.get("agent_left", 0) - times.get("rep_joined", 0),
        }
        (system.workdir / "timings.json").write_text(json.dumps(timings))
        print("timings", timings)


async def _room_named(lkapi: api.LiveKitAPI, prefix: str) -> str:
    found: list[str] = []

    async def exists() -> bool:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [r.name for r in rooms.rooms if r.name.startswith(prefix)]
        return bool(found)

    await eventually(exists, timeout=20)
    return found[0]
