"""When --probe may run without --yes."""

from __future__ import annotations

from pathlib import Path

from switchboard.doctor import Inventory, load_paths
from switchboard.doctor.inventory import ServerDispatch, ServerRoom
from switchboard.doctor.live import PROBE_METADATA
from switchboard.doctor.probe_safety import probe_risks

from .conftest import FIXTURES


def test_unnamed_worker_that_dispatches_on_start_is_a_risk() -> None:
    (risk,) = probe_risks(load_paths([FIXTURES / "SB110" / "bad"]), PROBE_METADATA)

    assert "qual_agent.py:38: an unnamed worker joins the probe room" in risk
    assert "CreateDispatch" in risk


def test_unnamed_worker_that_dials_says_it_places_a_call(tmp_path: Path) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(
        "from livekit import api\n"
        "from livekit.agents import WorkerOptions\n"
        "async def entrypoint(ctx):\n"
        "    await ctx.api.sip.create_sip_participant(api.CreateSIPParticipantRequest(\n"
        "        room_name=ctx.room.name, sip_call_to='+14155550100'))\n"
        "WorkerOptions(entrypoint_fnc=entrypoint)\n"
    )

    (risk,) = probe_risks(load_paths([agent]), PROBE_METADATA)

    assert "CreateSIPParticipant (a phone call)" in risk


def test_all_scanned_workers_named_is_safe() -> None:
    assert probe_risks(load_paths([FIXTURES / "SB111" / "good"]), PROBE_METADATA) == []


def test_nothing_scanned_means_the_doctor_cannot_tell() -> None:
    (risk,) = probe_risks(Inventory(), PROBE_METADATA)

    assert "cannot see which workers are registered" in risk


def test_a_live_room_answered_by_an_unnamed_worker_is_a_risk() -> None:
    room = ServerRoom(
        name="call-1",
        dispatches=[ServerDispatch(agent_name="", jobs=1)],
        source="server: room call-1",
    )
    inventory = load_paths([FIXTURES / "SB111" / "good"]).merge(Inventory(server_rooms=[room]))

    (risk,) = probe_risks(inventory, PROBE_METADATA)

    assert risk.startswith("server: room call-1: an unnamed worker is registered right now")


def test_a_switchboard_rule_that_dispatches_to_any_room_is_a_risk(tmp_path: Path) -> None:
    (tmp_path / "agent.py").write_text((FIXTURES / "SB111" / "good" / "agent.py").read_text())
    (tmp_path / "rules.yaml").write_text(
        "version: 1\n"
        "rules:\n"
        "  - id: every-new-room\n"
        "    when:\n"
        "      event: room_started\n"
        "    then:\n"
        "      dispatch:\n"
        "        - agent: my-outbound-caller\n"
        "default: nobody\n"
    )

    risks = probe_risks(load_paths([tmp_path]), PROBE_METADATA)

    assert any("rule 'every-new-room' dispatches my-outbound-caller" in risk for risk in risks)
