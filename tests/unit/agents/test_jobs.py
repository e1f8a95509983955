"""The outbound-caller's job metadata contract."""

from __future__ import annotations

import json

import pytest

from switchboard.agents.jobs import JobMetadataError, OutboundCallJob


def test_round_trip_keeps_only_what_was_set() -> None:
    job = OutboundCallJob(number="+15550100200", sip_trunk_id="ST_1", caller_room="call-1")
    assert json.loads(job.to_metadata()) == {
        "number": "+15550100200",
        "sip_trunk_id": "ST_1",
        "caller_room": "call-1",
    }
    assert OutboundCallJob.parse(job.to_metadata()) == job


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    job = OutboundCallJob.parse('{"number": "+1555", "sip_trunk_id": "ST", "future": 1}')
    assert job.number == "+1555"


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ("", "number: Field required; sip_trunk_id: Field required"),
        ("not json", "metadata: Invalid JSON"),
        ('{"number": "+1555", "sip_trunk_id": ""}', "sip_trunk_id: String should have at least"),
        ('{"number": "1", "sip_trunk_id": "ST"}', "number: String should have at least 3"),
        (
            '{"number": "+1555", "sip_trunk_id": "ST", "ringing_timeout_seconds": 1}',
            "ringing_timeout_seconds: Input should be greater than or equal to 5",
        ),
    ],
)
def test_invalid_metadata_says_which_field(metadata: str, fragment: str) -> None:
    with pytest.raises(JobMetadataError) as info:
        OutboundCallJob.parse(metadata)
    assert fragment in str(info.value)
    assert '{"number": "+15550100200", "sip_trunk_id": "ST_..."}' in str(info.value)


def test_callee_identity() -> None:
    job = OutboundCallJob(number="+1555", sip_trunk_id="ST", target="sales")
    assert job.callee_identity("AJ_abcdefghijkl") == "human-sales-efghijkl"
    named = job.model_copy(update={"human_identity": "desk-1"})
    assert named.callee_identity("AJ_x") == "desk-1"


def test_jobs_without_a_handoff_connect_directly_and_warm_ones_say_so() -> None:
    plain = OutboundCallJob.parse('{"number": "+1555", "sip_trunk_id": "ST"}')
    assert plain.handoff == "direct"
    warm = OutboundCallJob(number="+1555", sip_trunk_id="ST", handoff="warm", decision_seconds=20)
    assert json.loads(warm.to_metadata())["handoff"] == "warm"
    assert OutboundCallJob.parse(warm.to_metadata()).decision_seconds == 20
    with pytest.raises(JobMetadataError, match="handoff"):
        OutboundCallJob.parse('{"number": "+1555", "sip_trunk_id": "ST", "handoff": "cold"}')
