"""What the real server, livekit-agents and livekit-sip do to a caller whose agent dies or who
hears nothing (facts n1-n3 in docs/livekit-semantics.md): the facts the watchdog is built on.

n1: a job process killed with SIGKILL mid-call (the probe worker writes each job's pid).
n2/n3: a phone in a room where nobody publishes audio, captured at the phone's RTP port.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.stack import Stack
from tests.support.participants import agent_names_in_room, eventually, join
from tests.support.rtp_capture import RtpCapture, decode, rms
from tests.support.sipp import free_media_port, start_tone_uas
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.timeout(240)

NOBODY_SERVES = "nobody-serves-this"
"""An agent name no worker registers: a room created with it gets no agent at all."""
SILENT_SECONDS = 40
"""Longer than livekit-sip's media_timeout_initial (30 s) and media_timeout (15 s)."""


async def _agent_identities(lkapi: api.LiveKitAPI, room: str) -> list[str]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return [p.identity for p in response.participants if p.kind == api.ParticipantInfo.Kind.AGENT]


async def _wait_agent_ready(lkapi: api.LiveKitAPI, room: str, count: int = 1) -> None:
    async def ready() -> bool:
        labels = await agent_names_in_room(lkapi, room)
        return len(labels) == count and "not-ready" not in labels

    await eventually(ready, timeout=30)


async def test_n1_a_killed_job_process_is_not_restarted_its_dispatch_stays_and_a_new_one_works(
    livekit_stack: Stack, probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    """SIGKILL the agent's job process: its participant stays in the room for about 20 s (the
    server waits for its media to time out; livekit-agents noticed the exit at once), nobody
    restarts the job, the dispatch stays listed; a new CreateDispatch of the same agent name
    (the old dispatch still listed) brings a new job and the agent back."""
    caller = await join(livekit_stack, room_name, "caller", agents=["qualifier"])
    try:
        await _wait_agent_ready(lkapi, room_name)
        [job] = probe_workers.jobs(room_name)
        [dead_identity] = await _agent_identities(lkapi, room_name)
        killed_at = time.monotonic()
        os.kill(job["pid"], signal.SIGKILL)

        async def agent_gone() -> bool:
            return not await _agent_identities(lkapi, room_name)

        await eventually(agent_gone, timeout=60, interval=0.1)
        gone_after = time.monotonic() - killed_at
        print(f"n1: the killed agent left the participant list {gone_after:.2f} s after SIGKILL")
        assert 10 < gone_after < 45, f"the dead agent stayed listed {gone_after:.1f} s"

        await asyncio.sleep(8)  # time for any restart to show
        assert len(probe_workers.jobs(room_name)) == 1, "the job was restarted"
        assert await _agent_identities(lkapi, room_name) == []
        listed = await lkapi.agent_dispatch.list_dispatch(room_name=room_name)
        assert [d.agent_name for d in listed] == ["qualifier"], "the dispatch is no longer listed"
        states = [
            (api.JobStatus.Name(j.state.status), j.state.participant_identity, j.state.error)
            for j in listed[0].state.jobs
        ]
        print(f"n1: the listed dispatch's jobs after the crash: {states}")
        assert [identity for _, identity, _ in states] == [dead_identity]

        await probe_workers.wait_warm(["qualifier"])
        recreated_at = time.monotonic()
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name="qualifier", room=room_name)
        )
        await _wait_agent_ready(lkapi, room_name)
        back_after = time.monotonic() - recreated_at
        print(f"n1: CreateDispatch to the agent in the room again: {back_after:.2f} s")
        jobs = probe_workers.jobs(room_name)
        assert len(jobs) == 2 and jobs[1]["pid"] != job["pid"]
        listed = await lkapi.agent_dispatch.list_dispatch(room_name=room_name)
        assert [d.agent_name for d in listed] == ["qualifier", "qualifier"]
    finally:
        await caller.disconnect()
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


@pytest.mark.sip
async def test_n2_livekit_sip_keeps_a_caller_who_hears_nothing(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, room_name: str, tmp_path: Path
) -> None:
    """A phone (talking) in a room where nobody publishes audio: livekit-sip keeps the call up
    past its media timeouts and sends the phone RTP all along: 50 packets a second of digital
    silence, so no RTP-inactivity timer on the phone's side trips."""
    host = livekit_stack.config.node_ip
    media_port = free_media_port(host)
    heard = RtpCapture(tmp_path, media_port, "heard-by-phone").start()
    phone = start_tone_uas(
        tmp_path,
        host,
        tone_hz=600.0,
        hold_ms=(SILENT_SECONDS + 20) * 1000,
        media_port=media_port,
        port=0,
    )
    trunk = await lkapi.sip.create_outbound_trunk(
        api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(name="n2", address=phone.address, numbers=["+15550002"])
        )
    )
    await lkapi.room.create_room(
        api.CreateRoomRequest(
            name=room_name, agents=[api.RoomAgentDispatch(agent_name=NOBODY_SERVES)]
        )
    )
    try:
        await lkapi.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(
                sip_trunk_id=trunk.sip_trunk_id,
                sip_call_to="+15557000002",
                room_name=room_name,
                participant_identity="caller",
                wait_until_answered=True,
            )
        )
        answered = time.time()
        await asyncio.sleep(SILENT_SECONDS)
        response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room_name))
        assert [p.identity for p in response.participants] == ["caller"]
        assert phone.process.running(), "the phone's call ended"
        assert not re.search(r"^\s*BYE sip:", phone.messages(), re.M), "livekit-sip hung up"
        packets = [p for p in heard.packets() if p.arrival >= answered]
        seconds = {int(p.arrival - answered) for p in packets}
        level = rms(decode(packets))
        print(
            f"n2: {len(packets)} RTP packets reached the phone in {SILENT_SECONDS} s of a silent "
            f"room, in {len(seconds)} distinct seconds, at RMS {level:.5f}"
        )
        # 20 ms frames throughout: the phone hears near-silence (0.0002), never an RTP gap.
        assert len(packets) > 0.9 * 50 * SILENT_SECONDS
        assert len(seconds) >= SILENT_SECONDS
        assert level < 0.001
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))
        phone.stop()
        heard.stop()
