"""RTP seen by each side: a sipp phone in a real call hears the room, and stops hearing a party
that mutes or leaves; the room hears the phone. Tones make it measurable: the web participant
sends 440 Hz, the phone 1000 Hz; tcpdump records what reaches the phone's RTP port."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livekit import api, rtc

from switchboard.stack.config import free_port
from switchboard.stack.stack import Stack
from tests.support.participants import eventually, join
from tests.support.rtp_capture import HEARD, Chunk, RtpCapture, tone_level
from tests.support.sipp import Sipp, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(180)]

WEB_HZ, PHONE_HZ = 440, 1000
PHONE = "phone"
WINDOW = 3.0  # seconds of audio measured per step
SETTLE = 1.0  # after a change, before measuring: the jitter buffers still hold the past


@dataclass
class WebParticipant:
    """An rtc participant that hums ``WEB_HZ`` and records what the phone sends the room."""

    room: rtc.Room
    track: rtc.LocalAudioTrack
    heard: list[Chunk] = field(default_factory=list)
    keys: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), digit)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def unpublish(self) -> None:
        assert self.track.sid
        await self.room.local_participant.unpublish_track(self.track.sid)

    async def record(self, track: rtc.Track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=8000, num_channels=1):
            self.heard.append(Chunk(time.time(), tuple(event.frame.data), 8000))


async def _hum(source: rtc.AudioSource, freq_hz: float) -> None:
    rate, size = 48000, 480
    for start in range(0, 2**62, size):
        frame = rtc.AudioFrame.create(rate, 1, size)
        for i in range(size):
            frame.data[i] = round(
                0.25 * 32767 * math.sin(2 * math.pi * freq_hz * (start + i) / rate)
            )
        await source.capture_frame(frame)


@pytest.fixture
async def web(livekit_stack: Stack, room_name: str) -> AsyncIterator[WebParticipant]:
    room = await join(livekit_stack, room_name, "web")
    source = rtc.AudioSource(48000, 1)
    track = rtc.LocalAudioTrack.create_audio_track("web-mic", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await room.local_participant.publish_track(track, options)
    participant = WebParticipant(room, track)
    participant.tasks.append(asyncio.create_task(_hum(source, WEB_HZ)))

    def on_track(
        track: rtc.Track, _pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if p.identity == PHONE and track.kind == rtc.TrackKind.KIND_AUDIO:
            participant.tasks.append(asyncio.create_task(participant.record(track)))

    def on_key(dtmf: rtc.SipDTMF) -> None:
        if dtmf.participant is not None and dtmf.participant.identity == PHONE:
            participant.keys.append((time.time(), dtmf.digit))

    room.on("track_subscribed", on_track)
    room.on("sip_dtmf_received", on_key)
    yield participant
    for task in participant.tasks:
        task.cancel()
    await asyncio.gather(*participant.tasks, return_exceptions=True)
    await room.disconnect()


@dataclass
class PhoneLine:
    phone: Sipp
    capture: RtpCapture
    trunk_id: str


@pytest.fixture
async def phone_line(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[PhoneLine]:
    """A phone humming ``PHONE_HZ`` (and pressing the parametrized key from 2 s after answering),
    its RTP port under capture, and an outbound trunk to it."""
    press: str | None = getattr(request, "param", None)
    phone = start_tone_uas(
        tmp_path,
        livekit_stack.config.node_ip,
        port=free_port(),
        tone_hz=PHONE_HZ,
        hold_ms=60000,
        press=press,
        press_after_ms=2000,
    )
    capture = RtpCapture(tmp_path, phone.media_port).start()
    trunk = await lkapi.sip.create_outbound_trunk(
        api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(
                name="tone phone", address=phone.address, numbers=["+15550000000"]
            )
        )
    )
    try:
        yield PhoneLine(phone, capture, trunk.sip_trunk_id)
    finally:
        capture.stop()
        phone.stop()
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


def _levels(audio: list[Chunk] | RtpCapture, start: float, end: float) -> dict[int, float]:
    return {hz: tone_level(audio, hz, start, end) for hz in (WEB_HZ, PHONE_HZ)}


def _packets(capture: RtpCapture, start: float, end: float) -> int:
    return sum(1 for p in capture.packets() if start <= p.arrival < end)


async def _dial(lkapi: api.LiveKitAPI, line: PhoneLine, room: str) -> None:
    await lkapi.sip.create_sip_participant(
        api.CreateSIPParticipantRequest(
            sip_trunk_id=line.trunk_id,
            sip_call_to="+15557654321",
            room_name=room,
            participant_identity=PHONE,
            wait_until_answered=True,
        )
    )


async def _window() -> tuple[float, float]:
    """The next ``WINDOW`` seconds, after letting a change settle."""
    await asyncio.sleep(SETTLE)
    start = time.time()
    await asyncio.sleep(WINDOW)
    return start, time.time()


async def test_the_phone_hears_the_room_and_stops_hearing_a_party_that_mutes_or_leaves(
    lkapi: api.LiveKitAPI,
    room_name: str,
    web: WebParticipant,
    phone_line: PhoneLine,
) -> None:
    phone, capture = phone_line.phone, phone_line.capture
    await _dial(lkapi, phone_line, room_name)
    try:

        async def both_hear_something() -> bool:
            return bool(web.heard) and any(True for _ in capture)

        await eventually(both_hear_something, timeout=15)

        talking = await _window()
        at_phone, in_room = _levels(capture, *talking), _levels(web.heard, *talking)
        web.track.mute()
        muted = await _window()
        at_phone_muted = _levels(capture, *muted)
        web.track.unmute()
        unmuted = await _window()
        at_phone_unmuted = _levels(capture, *unmuted)
        await web.unpublish()
        left = await _window()
        await asyncio.sleep(0.2)  # the last packets of the window reach the capture file
        at_phone_left, in_room_left = _levels(capture, *left), _levels(web.heard, *left)
        levels = {
            "phone hears": at_phone,
            "room hears": in_room,
            "phone hears, web muted": at_phone_muted,
            "phone hears, web unmuted": at_phone_unmuted,
            "phone hears, web unpublished": at_phone_left,
            "room hears, web unpublished": in_room_left,
        }
        print(levels)  # the measured margins, for the record (pytest -s)

        assert at_phone[WEB_HZ] > HEARD and at_phone[PHONE_HZ] < HEARD / 10, levels
        assert in_room[PHONE_HZ] > HEARD and in_room[WEB_HZ] < HEARD / 10, levels
        # Silence is received, not nothing: livekit-sip sends 50 packets a second throughout.
        assert _packets(capture, *muted) > 45 * WINDOW
        assert _packets(capture, *left) > 45 * WINDOW
        assert at_phone_muted[WEB_HZ] < HEARD / 10, levels
        assert at_phone_unmuted[WEB_HZ] > HEARD, levels
        assert at_phone_left[WEB_HZ] < HEARD / 10, levels
        assert in_room_left[PHONE_HZ] > HEARD, levels  # the phone goes on talking meanwhile
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
    # livekit-sip hangs up the phone when the room goes; the phone answers the BYE and ends.
    await asyncio.to_thread(phone.wait_exit, 15)
    assert not phone.process.running()
    assert "BYE" in phone.messages()


@pytest.mark.parametrize("phone_line", ["5"], indirect=True)
async def test_the_phone_key_presses_reach_the_room_while_its_tone_goes_on(
    lkapi: api.LiveKitAPI, room_name: str, web: WebParticipant, phone_line: PhoneLine
) -> None:
    await _dial(lkapi, phone_line, room_name)
    answered = time.time()
    try:

        async def three_keys() -> bool:
            return len(web.keys) >= 3

        await eventually(three_keys, timeout=15)
        await asyncio.sleep(0.5)
        assert [digit for _at, digit in web.keys] == ["5", "5", "5"]
        first, last = web.keys[0][0], web.keys[-1][0]
        assert 1.5 < first - answered < 4 and 1.5 < last - first < 2.5, web.keys
        level = tone_level(web.heard, PHONE_HZ, first - 0.5, last + 0.5)
        assert level > HEARD, level  # a press is 160 ms in place of the tone, no more
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
