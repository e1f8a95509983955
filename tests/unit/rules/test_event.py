"""RoomEvent reads webhooks exactly as livekit-server sends them, and never crashes on odd ones."""

from __future__ import annotations

import json

import pytest

from switchboard.rules import EventError, RoomEvent

from .helpers import room_started, sip_call, web_join


def test_reads_proto3_json_with_camel_case_and_int64_strings() -> None:
    event = RoomEvent.from_webhook_dict(sip_call())
    assert event.event == "participant_joined"
    assert event.created_at == 1748937600
    assert event.room is not None and event.room.empty_timeout == 300
    assert event.room.creation_time == 1748937600
    assert event.participant is not None
    assert event.participant.kind == "SIP"
    assert event.participant.attributes["sip.trunkPhoneNumber"] == "+19497710000"


def test_a_standard_participant_has_no_kind_key_and_reads_as_standard() -> None:
    payload = web_join()
    assert "kind" not in payload["participant"]
    event = RoomEvent.from_webhook_dict(payload)
    assert event.participant is not None and event.participant.kind == "STANDARD"


def test_snake_case_keys_are_accepted() -> None:
    event = RoomEvent.from_webhook_dict(
        {"event": "room_started", "created_at": "12", "room": {"name": "r", "empty_timeout": 5}}
    )
    assert event.created_at == 12
    assert event.room is not None and event.room.empty_timeout == 5


@pytest.mark.parametrize(
    ("raw", "name"), [(3, "SIP"), (4, "AGENT"), (0, "STANDARD"), ("sip", "SIP")]
)
def test_kind_numbers_and_lower_case_names_map_to_enum_names(raw: object, name: str) -> None:
    event = RoomEvent.from_webhook_dict(
        {"event": "participant_joined", "participant": {"kind": raw}}
    )
    assert event.participant is not None and event.participant.kind == name


def test_room_metadata_json_is_parsed() -> None:
    event = RoomEvent.from_webhook_dict(room_started(metadata={"flow": "outbound", "n": 3}))
    assert event.room is not None
    assert event.room.metadata_object == {"flow": "outbound", "n": 3}


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "42", '"text"', ""])
def test_metadata_that_is_not_a_json_object_reads_as_empty_and_keeps_the_raw_string(
    raw: str,
) -> None:
    event = RoomEvent.from_webhook_dict(room_started(metadata=raw))
    assert event.room is not None
    assert event.room.metadata_object == {}
    assert event.room.metadata == raw


def test_unknown_event_types_parse_and_are_not_dispatch_events() -> None:
    event = RoomEvent.from_webhook_dict({"event": "agent_job_started", "id": "EV_1", "job": {}})
    assert event.event == "agent_job_started"
    assert not event.is_dispatch_event
    assert RoomEvent.from_webhook_dict(room_started()).is_dispatch_event


def test_fields_of_the_wrong_type_are_dropped_not_fatal() -> None:
    event = RoomEvent.from_webhook_dict(
        {
            "event": "participant_joined",
            "createdAt": "not a number",
            "room": {"name": ["a list"], "sid": "RM_1"},
            "participant": {"identity": "p", "attributes": {"good": "1", "bad": 2}},
        }
    )
    assert event.created_at == 0
    assert event.room is not None and event.room.name == "" and event.room.sid == "RM_1"
    assert event.participant is not None and event.participant.attributes == {"good": "1"}


def test_the_callers_dict_is_not_modified_by_repairs() -> None:
    payload = {"event": "room_started", "room": {"name": 5, "sid": "RM_1"}}
    RoomEvent.from_webhook_dict(payload)
    assert payload == {"event": "room_started", "room": {"name": 5, "sid": "RM_1"}}


def test_a_payload_that_is_not_an_object_raises_event_error() -> None:
    with pytest.raises(EventError, match="JSON object"):
        RoomEvent.from_webhook_dict([1, 2])  # type: ignore[arg-type]


def test_from_webhook_json_reads_the_raw_body_and_rejects_invalid_json() -> None:
    body = json.dumps(sip_call()).encode()
    assert RoomEvent.from_webhook_json(body).participant is not None
    with pytest.raises(EventError, match="not valid JSON"):
        RoomEvent.from_webhook_json(b"{oops")


def test_summary_names_event_room_and_participant() -> None:
    summary = RoomEvent.from_webhook_dict(sip_call(caller="+15551112222")).summary()
    assert "participant_joined" in summary
    assert '"sip_+15551112222" (SIP)' in summary
