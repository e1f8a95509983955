"""The doctor's live edges against the real stack: reading the server, and the probe."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import typer
from livekit import api
from typer.testing import CliRunner

from switchboard.doctor import Inventory, Severity, load_from_server, probe, run_checks
from switchboard.doctor.cli import doctor
from switchboard.doctor.live import PROBE_ROOM_PREFIX
from switchboard.stack.stack import Stack
from tests.support.participants import eventually
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.integration


@dataclass
class SeedSetup:
    """The seed's SIP objects, created on the server with a typo in the rule's trunk id."""

    inbound_id: str
    outbound_id: str
    rule_id: str
    number: str


@pytest.fixture
async def seed_setup(lkapi: api.LiveKitAPI) -> AsyncIterator[SeedSetup]:
    number = f"+1949555{secrets.randbelow(10_000):04d}"
    inbound = await lkapi.sip.create_inbound_trunk(
        api.CreateSIPInboundTrunkRequest(
            trunk=api.SIPInboundTrunkInfo(
                name="Twilio trunk",
                numbers=[number],
                headers_to_attributes={"x-User-to-User": "call-data"},
            )
        )
    )
    outbound = await lkapi.sip.create_outbound_trunk(
        api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(
                name="Twilio_Trunk",
                address="maqualsdsfdh.pstn.twilio.com",
                numbers=[f"+1628555{secrets.randbelow(10_000):04d}"],
            )
        )
    )
    rule = await lkapi.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(
            dispatch_rule=api.SIPDispatchRuleInfo(
                name="twilio Dispatch Rule",
                rule=api.SIPDispatchRule(
                    dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                ),
                trunk_ids=[inbound.sip_trunk_id + "K"],
            )
        )
    )
    yield SeedSetup(inbound.sip_trunk_id, outbound.sip_trunk_id, rule.sip_dispatch_rule_id, number)
    await lkapi.sip.delete_dispatch_rule(
        api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
    )
    for trunk_id in (inbound.sip_trunk_id, outbound.sip_trunk_id):
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id))


async def _probe_rooms(lkapi: api.LiveKitAPI) -> list[str]:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    return [room.name for room in rooms.rooms if room.name.startswith(PROBE_ROOM_PREFIX)]


@pytest.mark.sip
async def test_server_read_finds_the_seed_mistakes(
    lkapi: api.LiveKitAPI, seed_setup: SeedSetup
) -> None:
    inventory = await load_from_server(lkapi)
    inventory.server_url = "ws://stack"

    assert seed_setup.inbound_id in {t.trunk_id for t in inventory.inbound_trunks}
    assert seed_setup.outbound_id in {t.trunk_id for t in inventory.outbound_trunks}
    (rule,) = [r for r in inventory.dispatch_rules if r.rule_id == seed_setup.rule_id]
    assert (rule.kind, rule.room_prefix, rule.agents) == ("individual", "call", [])
    assert rule.source == f"server: dispatch rule {seed_setup.rule_id}"

    findings = run_checks(inventory)

    def about(code: str, text: str) -> list[Severity]:
        return [
            f.severity
            for f in findings
            if f.code == code and any(text in line for line in [f.message, *f.evidence])
        ]

    assert Severity.ERROR in about("SB204", f"Did you mean {seed_setup.inbound_id}?")
    assert Severity.ERROR in about("SB203", seed_setup.inbound_id)
    # Trunks only, no agent code: one Twilio trunk both ways is LiveKit's recommended setup.
    assert Severity.INFO in about("SB202", seed_setup.outbound_id)


async def test_server_read_catches_the_default_agent_in_a_dispatched_room(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI, room_name: str
) -> None:
    await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="outbound-caller", room=room_name)
    )
    try:

        async def two_dispatches() -> bool:
            return len(await lkapi.agent_dispatch.list_dispatch(room_name=room_name)) >= 2

        await eventually(two_dispatches, timeout=20)
        inventory = await load_from_server(lkapi)
        (room,) = [r for r in inventory.server_rooms if r.name == room_name]

        assert sorted(d.agent_name for d in room.dispatches) == ["", "outbound-caller"]
        leaks = [f for f in run_checks(inventory) if f.code == "SB108"]
        assert any(room_name in f.message and f.severity is Severity.ERROR for f in leaks)
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_probe_sees_the_unnamed_worker_and_deletes_its_room(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI
) -> None:
    result = await probe(lkapi, wait_seconds=20)

    assert result.room.startswith(PROBE_ROOM_PREFIX)
    assert [agent.agent_name for agent in result.agents] == [""]
    assert [dispatch.agent_name for dispatch in result.dispatches] == [""]
    assert [job["label"] for job in probe_workers.jobs(result.room)] == ["unnamed"]
    assert result.room not in await _probe_rooms(lkapi)
    codes = {f.code for f in run_checks(Inventory(probe=result))}
    assert "SB109" in codes
    # The implicit dispatch restarts a job cut off by DeleteRoom (~15 s later, recreating the
    # room) unless the probe deletes the dispatch first: the room must stay gone.
    for _ in range(40):
        await asyncio.sleep(0.5)
        assert result.room not in await _probe_rooms(lkapi)
    assert len(probe_workers.jobs(result.room)) == 1


async def test_probe_deletes_its_room_when_cancelled_and_it_stays_deleted(
    probe_workers: WorkerPool, lkapi: api.LiveKitAPI
) -> None:
    task = asyncio.create_task(probe(lkapi, wait_seconds=30))

    async def room_exists() -> bool:
        return bool(await _probe_rooms(lkapi)) or task.done()

    await eventually(room_exists, timeout=10)
    (room,) = await _probe_rooms(lkapi)
    task.cancel()  # at once: the unnamed worker's job is still starting
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert await _probe_rooms(lkapi) == []
    # Deleted under a starting job, the room would come back: LiveKit restarts the job and the
    # agent's join recreates the room, which dispatches yet another job (seen before the fix).
    for _ in range(40):
        await asyncio.sleep(0.5)
        assert await _probe_rooms(lkapi) == []
    assert len(probe_workers.jobs(room)) <= 1


def test_cli_server_and_probe_read_the_stack(livekit_stack: Stack) -> None:
    app = typer.Typer()
    app.command()(doctor)

    result = CliRunner().invoke(
        app, ["--server", "--probe", "--yes", "--json"], env=livekit_stack.config.env()
    )

    assert result.exit_code in (0, 1, 2), result.output
    summary = json.loads(result.output)["summary"]
    assert summary["server"] == livekit_stack.config.url
    assert summary["probe"].startswith(PROBE_ROOM_PREFIX)
