"""Field paths name event values the same way in conditions, templates and rollout keys."""

from __future__ import annotations

import pytest

from switchboard.rules import RoomEvent
from switchboard.rules.fields import MISSING, FieldPathError, parse_field_path

from .helpers import room_started, sip_call

CALL = RoomEvent.from_webhook_dict(sip_call(caller="+15550001111"))
ROOM = RoomEvent.from_webhook_dict(
    room_started("r1", {"flow": "outbound", "customer": {"tier": "gold", "tags": ["a", "b"]}})
)


@pytest.mark.parametrize(
    ("path", "event", "value"),
    [
        ("event", CALL, "participant_joined"),
        ("event.type", CALL, "participant_joined"),
        ("event.id", CALL, "EV_3mYtP9sW2kQa"),
        ("room.name", ROOM, "r1"),
        ("room.sid", ROOM, "RM_qW9eR4tY6uI1"),
        ("room.metadata.flow", ROOM, "outbound"),
        ("room.metadata.customer.tier", ROOM, "gold"),
        ("room.metadata.customer.tags.1", ROOM, "b"),
        ("participant.identity", CALL, "sip_+15550001111"),
        ("participant.kind", CALL, "SIP"),
        ("participant.attributes[sip.phoneNumber]", CALL, "+15550001111"),
        ("participant.attributes.sip.phoneNumber", CALL, "+15550001111"),
        ("sip.phoneNumber", CALL, "+15550001111"),
    ],
)
def test_paths_read_the_event(path: str, event: RoomEvent, value: object) -> None:
    assert parse_field_path(path).get(event) == value


@pytest.mark.parametrize(
    ("path", "event"),
    [
        ("participant.identity", ROOM),
        ("room.metadata.nope", ROOM),
        ("room.metadata.customer.tags.7", ROOM),
        ("room.metadata.flow.deeper", ROOM),
        ("sip.notThere", CALL),
    ],
)
def test_absent_values_are_missing_not_none(path: str, event: RoomEvent) -> None:
    assert parse_field_path(path).get(event) is MISSING


def test_sip_shorthand_and_bracket_forms_share_one_canonical_spelling() -> None:
    canonical = "participant.attributes[sip.trunkPhoneNumber]"
    for spelling in ("sip.trunkPhoneNumber", "participant.attributes.sip.trunkPhoneNumber"):
        path = parse_field_path(spelling)
        assert path.text == canonical
        assert path.attribute == "sip.trunkPhoneNumber"


def test_kinds_of_values() -> None:
    assert parse_field_path("event").kind == "event"
    assert parse_field_path("participant.kind").kind == "kind"
    assert parse_field_path("room.name").kind == "text"
    assert parse_field_path("room.metadata.x").kind == "json"


def test_unknown_paths_get_a_did_you_mean_hint() -> None:
    with pytest.raises(FieldPathError) as caught:
        parse_field_path("room.nmae")
    assert caught.value.message == "unknown field 'room.nmae'"
    assert "room.name" in caught.value.hint


@pytest.mark.parametrize("path", ["room.metadata.", "room.metadata.a..b", "sip.", "room"])
def test_malformed_paths_are_rejected(path: str) -> None:
    with pytest.raises(FieldPathError):
        parse_field_path(path)
