"""decide: first match wins, the default applies otherwise, and the explanation is exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from switchboard.rules import RoomEvent
from switchboard.rules.engine import resolve_now

from .helpers import MONDAY_NOON_UTC, document, room_started, rules_from, sip_call, web_join

ORDERED = document(
    [
        {"id": "vip", "when": {"room.metadata.tier": "gold"}, "then": {"dispatch": ["concierge"]}},
        {
            "id": "sales",
            "when": {"room.name": {"glob": "sales-*"}},
            "then": {"dispatch": ["seller"]},
        },
        {"id": "calls", "when": {"sip.trunkPhoneNumber": "+19497710000"}, "then": "nobody"},
    ],
    default={"dispatch": [{"agent": "fallback", "metadata": "{event}"}]},
)


def test_first_matching_rule_wins() -> None:
    rules = rules_from(ORDERED)
    decision = rules.decide(room_started("sales-1", {"tier": "gold"}), MONDAY_NOON_UTC)
    assert decision.rule_id == "vip"
    assert decision.agent_names == ["concierge"]
    assert rules.decide(room_started("sales-1"), MONDAY_NOON_UTC).rule_id == "sales"


def test_the_default_applies_when_nothing_matches() -> None:
    decision = rules_from(ORDERED).decide(room_started("other"), MONDAY_NOON_UTC)
    assert decision.is_default
    assert decision.rule_id == "default"
    assert [d.to_json() for d in decision.dispatches] == [
        {"agent": "fallback", "metadata": "room_started"}
    ]


def test_a_matching_nobody_rule_dispatches_nothing_and_stops_evaluation() -> None:
    decision = rules_from(ORDERED).decide(sip_call(), MONDAY_NOON_UTC)
    assert decision.rule_id == "calls"
    assert decision.dispatches_nobody


def test_decide_takes_a_room_event_or_a_webhook_dict() -> None:
    rules = rules_from(ORDERED)
    payload = room_started("sales-9")
    from_dict = rules.decide(payload, MONDAY_NOON_UTC)
    from_model = rules.decide(RoomEvent.from_webhook_dict(payload), MONDAY_NOON_UTC)
    assert from_dict.rule_id == from_model.rule_id == "sales"


def test_indexed_rules_keep_file_order_across_fields() -> None:
    rules = rules_from(
        document(
            [
                {
                    "id": "by-number",
                    "when": {"sip.trunkPhoneNumber": "+1"},
                    "then": {"dispatch": ["a"]},
                },
                {"id": "by-kind", "when": {"participant.kind": "SIP"}, "then": {"dispatch": ["b"]}},
                {"id": "by-caller", "when": {"sip.phoneNumber": "+2"}, "then": {"dispatch": ["c"]}},
                {"id": "glob", "when": {"room.name": {"glob": "*"}}, "then": {"dispatch": ["d"]}},
            ]
        )
    )
    assert rules.decide(sip_call(called="+1", caller="+2")).rule_id == "by-number"
    assert rules.decide(sip_call(called="+9", caller="+2")).rule_id == "by-kind"
    assert rules.decide(web_join()).rule_id == "glob"
    assert rules.decide({"event": "participant_left"}).rule_id == "default"


def test_explain_lists_each_rule_and_condition_with_the_value_seen() -> None:
    decision = rules_from(ORDERED).decide(room_started("sales-1"), MONDAY_NOON_UTC)
    text = decision.explain()
    assert text.splitlines() == [
        'event: room_started EV_5tGhJ2kL9zXc room "sales-1" at 2025-06-02T12:00:00+00:00',
        "rule vip: no match",
        '  ✗ room.metadata.tier eq "gold"  (saw <missing>)',
        "rule sales: MATCHED",
        '  ✓ room.name glob "sales-*"  (saw "sales-1")',
        "decision: rule sales → dispatch seller",
    ]


def test_explain_shows_nested_combinators_indented() -> None:
    rules = rules_from(
        document(
            [
                {
                    "id": "r",
                    "when": {"any": [{"room.name": "a"}, {"not": {"room.name": "b"}}]},
                    "then": {"dispatch": ["x"]},
                }
            ]
        )
    )
    lines = rules.decide(room_started("b"), MONDAY_NOON_UTC).explain().splitlines()
    assert lines[1:6] == [
        "rule r: no match",
        "  ✗ any of  (saw the conditions below)",
        '    ✗ room.name eq "a"  (saw "b")',
        "    ✗ not  (saw the conditions below)",
        '      ✓ room.name eq "b"  (saw "b")',
    ]
    assert lines[-2:] == [
        "no rule matched: the default action applies",
        "decision: default → dispatch nobody",
    ]


def test_to_json_is_json_serialisable_and_complete() -> None:
    decision = rules_from(ORDERED).decide(sip_call(), MONDAY_NOON_UTC)
    data = json.loads(json.dumps(decision.to_json()))
    assert data["rule"] == "calls"
    assert data["dispatch"] == []
    assert data["now"] == "2025-06-02T12:00:00+00:00"
    assert data["event"]["participant"] == "sip_+15550000000"
    assert [rule["rule"] for rule in data["trace"]] == ["vip", "sales", "calls"]
    assert data["trace"][2]["matched"] is True
    assert data["trace"][2]["conditions"][0]["seen"] == '"+19497710000"'
    assert "trace" not in decision.to_json(include_trace=False)


def test_now_defaults_to_the_event_creation_time_so_retries_decide_alike() -> None:
    event = RoomEvent.from_webhook_dict(sip_call(created_at="1748937600"))
    assert resolve_now(event, None) == datetime(2025, 6, 3, 8, 0, tzinfo=UTC)


def test_now_falls_back_to_the_clock_and_naive_times_are_utc() -> None:
    before = datetime.now(UTC)
    event = RoomEvent.from_webhook_dict({"event": "room_started"})
    assert resolve_now(event, None) >= before
    naive = datetime(2025, 1, 1, 12, 0)
    assert resolve_now(event, naive) == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    plus_two = datetime(2025, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert resolve_now(event, plus_two) is plus_two


def test_absurd_creation_times_are_ignored() -> None:
    event = RoomEvent.from_webhook_dict({"event": "room_started", "createdAt": "9" * 30})
    assert resolve_now(event, None).year == datetime.now(UTC).year


def test_trace_is_computed_lazily_and_cached() -> None:
    decision = rules_from(ORDERED).decide(room_started("x"), MONDAY_NOON_UTC)
    first = decision.trace
    assert first is decision.trace
    assert len(first) == 3
    assert not any(rule.matched for rule in first)


def test_extreme_decision_times_do_not_break_time_windows() -> None:
    always = {"timezone": "Pacific/Kiritimati", "from": "00:00", "to": "24:00"}
    rules = rules_from(document([{"id": "hours", "when": {"time": always}, "then": "nobody"}]))
    decision = rules.decide(room_started(), datetime.max.replace(tzinfo=UTC))
    assert decision.rule_id == "default"
    assert "out of range" in decision.explain()


def test_may_dispatch_on_tells_which_event_types_a_rules_file_acts_on() -> None:
    started_only = rules_from(
        document([{"id": "r", "when": {"event": "room_started"}, "then": {"dispatch": ["a"]}}])
    )
    assert started_only.may_dispatch_on("room_started")
    assert not started_only.may_dispatch_on("participant_joined")
    on_joins = rules_from(
        document(
            [
                {"id": "r", "when": {"event": "room_started"}, "then": {"dispatch": ["a"]}},
                {"id": "s", "when": {"sip.phoneNumber": "+1"}, "then": {"dispatch": ["b"]}},
            ]
        )
    )
    assert on_joins.may_dispatch_on("participant_joined")  # rule s names no event type
    default_dispatches = rules_from(
        document(
            [{"id": "r", "when": {"event": "room_started"}, "then": "nobody"}],
            default={"dispatch": ["d"]},
        )
    )
    assert default_dispatches.may_dispatch_on("participant_joined")
