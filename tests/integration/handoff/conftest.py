"""Real parts for the handoff primitives: sipp phones behind outbound trunks, a presence agent."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from livekit import api

from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.support.sipp import Sipp, start_ringing_uas, start_uas
from tests.support.workers import wait_registered

PRESENCE_WORKER = Path(__file__).with_name("presence_worker.py")
PRESENCE_AGENT = "handoff-presence"


@dataclass
class Phone:
    """A sipp phone and the outbound trunk that dials it."""

    sipp: Sipp
    trunk_id: str


class PhoneFactory(Protocol):
    def __call__(self, code: int | None, reason: str = "OK") -> Awaitable[Phone]: ...


@pytest.fixture
async def phone(
    livekit_stack: Stack, lkapi: api.LiveKitAPI, tmp_path: Path
) -> AsyncIterator[PhoneFactory]:
    """``await phone(code, reason)``: a phone answering every INVITE with ``code`` (``None``: it
    rings until cancelled), with an outbound trunk to it. Both are removed after the test."""
    made: list[Phone] = []

    async def make(code: int | None, reason: str = "OK") -> Phone:
        workdir = tmp_path / f"phone-{len(made)}"
        workdir.mkdir()
        host = livekit_stack.config.node_ip
        sipp = (
            start_ringing_uas(workdir, host)
            if code is None
            else start_uas(workdir, host, code, reason)
        )
        trunk = await lkapi.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name=f"handoff-{code or 'ringing'}",
                    address=sipp.address,
                    numbers=["+15550000000"],
                )
            )
        )
        made.append(Phone(sipp, trunk.sip_trunk_id))
        return made[-1]

    yield make
    for each in made:
        each.sipp.stop()
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=each.trunk_id))


@dataclass
class PresenceWorker:
    """The worker running presence_worker.py; ``left(room)`` lists the humans it left for."""

    process: ManagedProcess
    event_log: Path

    def left(self, room: str) -> list[str]:
        if not self.event_log.exists():
            return []
        events = [json.loads(line) for line in self.event_log.read_text().splitlines() if line]
        return [e["human"] for e in events if e["room"] == room]


@pytest.fixture(scope="session")
def presence_worker(
    livekit_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PresenceWorker]:
    workdir = tmp_path_factory.mktemp("presence-worker")
    event_log = workdir / "left.jsonl"
    env: dict[str, Any] = {
        **livekit_stack.config.env(),
        "PRESENCE_AGENT_NAME": PRESENCE_AGENT,
        "PRESENCE_EVENT_LOG": str(event_log),
        "LIVEKIT_AGENT_NAME": "",
        "LIVEKIT_AGENT_NAME_OVERRIDE": "",
    }
    process = ManagedProcess(
        name="worker-presence",
        argv=[sys.executable, "-m", "livekit.agents", "start", str(PRESENCE_WORKER)],
        log_path=workdir / "worker-presence.log",
        env=env,
    )
    process.start()
    try:
        wait_registered(process)
        yield PresenceWorker(process, event_log)
    finally:
        process.stop()
