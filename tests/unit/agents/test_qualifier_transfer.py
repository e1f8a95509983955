"""What the qualifier asks the outbound-caller to do, and when it cannot ask at all."""

from __future__ import annotations

import json

from switchboard.agents.config import HumanLine, TransferTarget
from switchboard.agents.jobs import OutboundCallJob
from switchboard.agents.qualifier_transfer import caller_room_job, new_room_job, why_uncallable
from switchboard.vocabulary import CallMode, Handoff, TargetRoom

DESK = TransferTarget(display_name="Desk", sip_trunk_id="ST_1", number="+15550100200")
CALLBACK = TransferTarget(
    display_name="Callback", sip_trunk_id="ST_1", number="caller", room=TargetRoom.NEW
)


def test_a_configured_target_is_callable() -> None:
    assert why_uncallable("desk", DESK, DESK.number) is None
    assert why_uncallable("callback", CALLBACK, "+15551234567") is None


def test_a_target_without_a_number_says_where_to_set_it() -> None:
    problem = why_uncallable("desk", TransferTarget(display_name="Desk"), "")
    assert problem is not None
    assert "'desk' has no sip_trunk_id/number" in problem
    assert "transfer.targets.desk" in problem


def test_calling_back_a_caller_without_a_number_says_so() -> None:
    problem = why_uncallable("callback", CALLBACK, "")
    assert problem is not None
    assert "the caller's phone number is unknown" in problem


def test_the_caller_room_job_dials_the_first_human_into_the_caller_s_room() -> None:
    target = DESK.model_copy(
        update={
            "number": "",
            "humans": [HumanLine(number="+15550100201"), HumanLine(number="+15550100202")],
        }
    )
    job = caller_room_job("desk", target, "Brief.", caller_room="call-1", caller="sip_1")
    assert (job.number, job.sip_trunk_id, job.handoff) == ("+15550100201", "ST_1", Handoff.WARM)
    assert (job.caller_room, job.caller_identity, job.target) == ("call-1", "sip_1", "desk")
    assert [h.number for h in job.humans] == ["+15550100201", "+15550100202"]
    assert job.mode is CallMode.TRANSFER
    assert OutboundCallJob.parse(job.to_metadata()) == job


def test_the_new_room_job_calls_the_number_and_waits_for_the_caller_to_hang_up() -> None:
    job = new_room_job(
        "callback", CALLBACK, "Brief.", caller_room="call-1", caller="sip_1", number="+1555"
    )
    data = json.loads(job.to_metadata())
    assert data["mode"] == CallMode.REPRESENTATIVE
    assert (data["number"], data["wait_for_caller"]) == ("+1555", True)
    assert data["say"] == [CALLBACK.new_room.greeting, "Brief."]
