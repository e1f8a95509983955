"""``room: new`` targets and the outbound-caller's representative mode: config and job metadata."""

from __future__ import annotations

import json

import pytest

from switchboard.agents.config import (
    REPRESENTATIVE,
    AgentsConfigError,
    HumanAttribute,
    NewRoom,
    load_config,
    parse_config,
)
from switchboard.agents.jobs import JobMetadataError, OutboundCallJob
from switchboard.vocabulary import ParticipantKind

MINIMAL = """\
qualifier:
  greeting: Hi
  questions:
    - {id: owner, kind: yes_no, prompt: Do you own it}
transfer:
  targets:
"""


def target(line: str) -> str:
    return MINIMAL + f"    desk: {{display_name: Desk, sip_trunk_id: ST_x, {line}}}\n"


def problems(text: str) -> list[str]:
    with pytest.raises(AgentsConfigError) as info:
        parse_config(text, "agents.yaml")
    return [str(issue) for issue in info.value.issues]


def test_targets_use_the_callers_room_by_default() -> None:
    desk = parse_config(target("number: '+15550100'")).transfer.targets["desk"]
    assert desk.room == "caller"
    assert desk.new_room == NewRoom()
    assert not desk.calls_caller_back
    assert desk.number_to_dial("+15551234567") == "+15550100"


def test_the_representative_is_a_web_participant_with_the_representative_role() -> None:
    rule = NewRoom().representative
    assert rule.kinds == ["standard"]
    assert rule.attribute == HumanAttribute(name="switchboard.role", value="representative")


def test_new_room_calling_the_caller_back() -> None:
    text = target(
        "number: caller, room: new, new_room: {prefix: cb-, departure_timeout_seconds: 4}"
    )
    desk = parse_config(text).transfer.targets["desk"]
    assert desk.configured and desk.calls_caller_back
    assert desk.number_to_dial("+15551234567") == "+15551234567"
    assert desk.number_to_dial("") == ""  # a web caller has no number to call back
    assert desk.new_room.departure_timeout_seconds == 4
    assert desk.new_room.room_name("+15551234567", "ab12cd") == "cb-+15551234567_ab12cd"


def test_room_names_keep_only_safe_characters() -> None:
    assert NewRoom().room_name("sip_+1 (555) 01/2", "x") == "callback_sip+1555012_x"
    assert NewRoom().room_name("..", "x") == "callback_caller_x"


def test_caller_number_needs_a_new_room() -> None:
    (found,) = problems(target("number: caller"))
    assert found.startswith("agents.yaml:7: transfer.targets.desk")
    assert "number 'caller' (call the caller back) needs room: new" in found


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("number: '+1555', room: other", "transfer.targets.desk.room: Input should be 'caller'"),
        ("number: x, room: new", "neither E.164 (+15551234567), sip: nor 'caller'"),
        ("number: caller, room: new, new_room: {prefix: 'a b'}", "new_room.prefix: String"),
        ("number: caller, room: new, new_room: {who: x}", "new_room.who: unknown key"),
        (
            "number: caller, room: new, new_room: {representative_wait_seconds: 0}",
            "representative_wait_seconds: Input should be greater than 0",
        ),
    ],
)
def test_new_room_mistakes_are_located(line: str, fragment: str) -> None:
    (found,) = problems(target(line))
    assert found.startswith("agents.yaml:7: "), found
    assert fragment in found, found


def test_packaged_default_documents_a_new_room_target() -> None:
    callback = load_config().transfer.targets["callback"]
    assert callback.room == "new"
    assert callback.new_room.representative == REPRESENTATIVE


def test_transfer_metadata_without_the_new_fields_still_parses() -> None:
    job = OutboundCallJob.parse('{"number": "+1555", "sip_trunk_id": "ST"}')
    assert job.mode == "transfer"
    assert job.say == [] and not job.wait_for_caller
    assert job.representative == REPRESENTATIVE


def test_representative_job_round_trips() -> None:
    job = OutboundCallJob(
        number="+15551234567",
        sip_trunk_id="ST_1",
        mode="representative",
        say=["Hello.", "Caller qualified."],
        representative=REPRESENTATIVE.model_copy(
            update={"kinds": [ParticipantKind.STANDARD, ParticipantKind.SIP]}
        ),
        representative_wait_seconds=30,
        wait_for_caller=True,
    )
    data = json.loads(job.to_metadata())
    assert data["mode"] == "representative"
    assert data["representative"]["attribute"] == {
        "name": "switchboard.role",
        "value": "representative",
    }
    assert OutboundCallJob.parse(job.to_metadata()) == job


def test_default_representative_is_left_out_of_the_metadata() -> None:
    job = OutboundCallJob(number="+1555", sip_trunk_id="ST", mode="representative")
    assert "representative" not in json.loads(job.to_metadata())


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ('"mode": "cold"', "mode: Input should be 'transfer' or 'representative'"),
        ('"representative_wait_seconds": 0', "representative_wait_seconds: Input should be"),
        ('"representative": {"kinds": ["robot"]}', "representative.kinds.0: Input should be"),
    ],
)
def test_invalid_representative_fields_are_named(field: str, fragment: str) -> None:
    with pytest.raises(JobMetadataError) as info:
        OutboundCallJob.parse('{"number": "+1555", "sip_trunk_id": "ST", ' + field + "}")
    assert fragment in str(info.value)
