"""Every condition type, through the real loader and decide."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from switchboard.rules.rollout import bucket_of

from .helpers import matches, room_started, sip_call, web_join

BERLIN = ZoneInfo("Europe/Berlin")
META = {"flow": "outbound", "priority": 7, "score": "12.5", "vip": True, "tier": None}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"event": "room_started"}, True),
        ({"event": "participant_joined"}, False),
        ({"event": ["participant_joined", "room_started"]}, True),
        ({"room.name": "sales-42"}, True),
        ({"room.name": "sales-43"}, False),
        ({"room.name": {"glob": "sales-*"}}, True),
        ({"room.name": {"glob": "SALES-*"}}, False),
        ({"room.name": {"glob": "sales-?2"}}, True),
        ({"room.name": {"regex": r"^sales-\d+$"}}, True),
        ({"room.name": {"regex": r"^support"}}, False),
        ({"room.name": {"regex": "42"}}, True),
        ({"room.name": {"ne": "sales-42"}}, False),
        ({"room.name": {"in": ["a", "sales-42"]}}, True),
        ({"room.metadata.flow": "outbound"}, True),
        ({"room.metadata.flow": {"in": ["inbound", "transfer"]}}, False),
        ({"room.metadata.flow": {"regex": "^out"}}, True),
        ({"room.metadata.flow": {"exists": True}}, True),
        ({"room.metadata.missing": {"exists": False}}, True),
        ({"room.metadata.missing": {"exists": True}}, False),
        ({"room.metadata.tier": {"exists": True}}, True),
        ({"room.metadata.tier": {"eq": None}}, True),
        ({"room.metadata.priority": 7}, True),
        ({"room.metadata.priority": 7.0}, True),
        ({"room.metadata.priority": "7"}, False),
        ({"room.metadata.priority": {"gt": 5}}, True),
        ({"room.metadata.priority": {"gt": 7}}, False),
        ({"room.metadata.priority": {"gte": 7}}, True),
        ({"room.metadata.priority": {"lt": 7}}, False),
        ({"room.metadata.priority": {"lte": 7, "gte": 1}}, True),
        ({"room.metadata.score": {"gt": 12}}, True),
        ({"room.metadata.flow": {"gt": 0}}, False),
        ({"room.metadata.missing": {"lt": 100}}, False),
        ({"room.metadata.vip": True}, True),
        ({"room.metadata.vip": 1}, False),
        ({"room.metadata.priority": True}, False),
        ({"room.metadata.missing": {"ne": "x"}}, True),
    ],
)
def test_room_conditions(when: dict[str, Any], expected: bool) -> None:
    assert matches(when, room_started("sales-42", META)) is expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"participant.kind": "SIP"}, True),
        ({"participant.kind": "STANDARD"}, False),
        ({"participant.kind": ["AGENT", "SIP"]}, True),
        ({"participant.identity": {"glob": "sip_+1555*"}}, True),
        ({"participant.identity": {"regex": "^web-"}}, False),
        ({"sip.trunkPhoneNumber": "+19497710000"}, True),
        ({"sip.trunkPhoneNumber": "+19497710001"}, False),
        ({"participant.attributes[sip.phoneNumber]": {"glob": "+1555*"}}, True),
        ({"participant.attributes.sip.trunkID": {"in": ["ST_other", "ST_pX2mN7cK4dLq"]}}, True),
        ({"sip.h.x-customer": {"exists": True}}, False),
        ({"sip.callStatus": {"ne": "active"}}, False),
    ],
)
def test_participant_and_sip_conditions(when: dict[str, Any], expected: bool) -> None:
    assert matches(when, sip_call(caller="+15550000000")) is expected


def test_a_standard_participant_matches_kind_standard_and_never_sip() -> None:
    assert matches({"participant.kind": "STANDARD"}, web_join())
    assert not matches({"participant.kind": "SIP"}, web_join())


def test_participant_conditions_never_match_room_events() -> None:
    assert not matches({"participant.kind": "STANDARD"}, room_started())
    assert matches({"participant.identity": {"exists": False}}, room_started())


def test_numeric_comparisons_parse_text_attributes() -> None:
    call = sip_call()
    call["participant"]["attributes"]["sip.h.x-priority"] = "3"
    assert matches({"sip.h.x-priority": {"gte": 3}}, call)
    assert not matches({"sip.h.x-priority": {"gt": 3}}, call)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"all": [{"room.name": {"glob": "s*"}}, {"room.metadata.flow": "outbound"}]}, True),
        ({"all": [{"room.name": {"glob": "s*"}}, {"room.metadata.flow": "inbound"}]}, False),
        ({"any": [{"room.name": "x"}, {"room.metadata.flow": "outbound"}]}, True),
        ({"any": [{"room.name": "x"}, {"room.metadata.flow": "inbound"}]}, False),
        ({"not": {"room.name": "x"}}, True),
        ({"not": {"room.name": "sales-42"}}, False),
        ({"not": {"not": {"room.name": "sales-42"}}}, True),
        ({"room.name": "sales-42", "not": {"room.metadata.flow": "inbound"}}, True),
        (
            {"any": [{"all": [{"room.name": "sales-42"}, {"not": {"event": "room_started"}}]}]},
            False,
        ),
        ({}, True),
    ],
)
def test_combinators(when: dict[str, Any], expected: bool) -> None:
    assert matches(when, room_started("sales-42", META)) is expected


def test_a_list_as_when_means_all_of_them() -> None:
    assert matches(
        [{"room.name": "sales-42"}, {"room.metadata.flow": "outbound"}],
        room_started("sales-42", META),
    )
    assert not matches(
        [{"room.name": "sales-42"}, {"room.metadata.flow": "in"}], room_started("sales-42", META)
    )


BUSINESS = {
    "time": {"timezone": "Europe/Berlin", "days": "mon-fri", "from": "09:00", "to": "17:00"}
}


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2025, 6, 2, 9, 0), True),  # Monday opening
        (datetime(2025, 6, 2, 8, 59, 59), False),
        (datetime(2025, 6, 6, 16, 59), True),  # Friday
        (datetime(2025, 6, 6, 17, 0), False),  # closing time is exclusive
        (datetime(2025, 6, 7, 12, 0), False),  # Saturday
        (datetime(2025, 1, 7, 10, 0), True),  # winter time (CET)
    ],
)
def test_business_hours_in_a_timezone(local: datetime, expected: bool) -> None:
    assert matches(BUSINESS, room_started(), local.replace(tzinfo=BERLIN)) is expected


def test_time_windows_use_the_rule_timezone_not_utc() -> None:
    # 07:30 UTC on a June Monday is 09:30 in Berlin (open) but 03:30 in New York (closed).
    at = datetime(2025, 6, 2, 7, 30, tzinfo=UTC)
    assert matches(BUSINESS, room_started(), at)
    new_york = {"time": {**BUSINESS["time"], "timezone": "America/New_York"}}
    assert not matches(new_york, room_started(), at)


NIGHT = {"time": {"timezone": "Europe/Berlin", "days": ["fri"], "from": "22:00", "to": "06:00"}}


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2025, 6, 6, 23, 0), True),  # Friday night
        (datetime(2025, 6, 7, 5, 59), True),  # early Saturday belongs to Friday's window
        (datetime(2025, 6, 7, 6, 0), False),
        (datetime(2025, 6, 6, 3, 0), False),  # early Friday belongs to Thursday's window
        (datetime(2025, 6, 7, 23, 0), False),  # Saturday night
    ],
)
def test_windows_crossing_midnight_belong_to_the_day_they_open(
    local: datetime, expected: bool
) -> None:
    assert matches(NIGHT, room_started(), local.replace(tzinfo=BERLIN)) is expected


def test_day_ranges_wrap_around_the_week_and_accept_full_names() -> None:
    weekend = {"time": {"timezone": "UTC", "days": "Sat-Monday", "from": "00:00", "to": "24:00"}}
    assert matches(weekend, room_started(), datetime(2025, 6, 8, 23, 59, tzinfo=UTC))  # Sunday
    assert matches(weekend, room_started(), datetime(2025, 6, 9, 0, 0, tzinfo=UTC))  # Monday
    assert not matches(weekend, room_started(), datetime(2025, 6, 10, 12, 0, tzinfo=UTC))


def test_percentage_selects_by_a_stable_hash_of_the_key() -> None:
    salt = "canary"
    inside = next(f"+1555{n:07d}" for n in range(1000) if bucket_of(salt, f"+1555{n:07d}") < 1000)
    outside = next(f"+1555{n:07d}" for n in range(1000) if bucket_of(salt, f"+1555{n:07d}") >= 1000)
    rollout = {"percentage": {"percent": 10, "key": "sip.phoneNumber", "salt": salt}}
    assert matches(rollout, sip_call(caller=inside))
    assert not matches(rollout, sip_call(caller=outside))


def test_percentage_shorthand_keys_on_room_name_salted_with_the_rule_id() -> None:
    name = next(f"room-{n}" for n in range(1000) if bucket_of("r", f"room-{n}") < 5000)
    assert matches({"percentage": 50}, room_started(name))
    other = next(f"room-{n}" for n in range(1000) if bucket_of("r", f"room-{n}") >= 5000)
    assert not matches({"percentage": 50}, room_started(other))


def test_percentage_edges_and_missing_keys() -> None:
    assert matches({"percentage": 100}, room_started("any"))
    assert not matches({"percentage": 0}, room_started("any"))
    missing_key = {"percentage": {"percent": 100, "key": "room.metadata.customer_id"}}
    assert not matches(missing_key, room_started("any"))
