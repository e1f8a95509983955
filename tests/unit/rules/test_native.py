"""Native compilation: token dispatch lists, SIP dispatch rules, the plan and protobufs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from livekit import api

from switchboard.rules import (
    AgentDispatch,
    SipDispatchRule,
    agents_for_join,
    compile_native,
    diff,
    from_sip_dispatch_rule_info,
    room_configuration,
    to_create_request,
    to_sip_dispatch_rule_info,
    to_update_request,
)

from .helpers import MONDAY_NOON_UTC, document, rules_from

SALES = {
    "event": "participant_joined",
    "participant.kind": "SIP",
    "sip.trunkPhoneNumber": "+19497710000",
}


def rule(rule_id: str, when: Any, *agents: Any) -> dict[str, Any]:
    return {"id": rule_id, "when": when, "then": {"dispatch": list(agents)}}


def reasons(*rules: dict[str, Any]) -> dict[str, str]:
    report = compile_native(rules_from(document(list(rules))))
    return {item.rule_id: item.reason for item in report.webhook_only}


def test_agents_for_join_evaluates_room_started_and_participant_joined() -> None:
    rules = rules_from(
        document(
            [
                rule("room", {"event": "room_started", "room.metadata.flow": "outbound"}, "caller"),
                rule(
                    "vip",
                    {"event": "participant_joined", "participant.attributes[tier]": "gold"},
                    {"agent": "concierge", "metadata": "{participant.identity}"},
                ),
            ]
        )
    )
    agents = agents_for_join(
        rules, "room-1", '{"flow": "outbound"}', "alice", {"tier": "gold"}, MONDAY_NOON_UTC
    )
    assert agents == [AgentDispatch("caller"), AgentDispatch("concierge", "alice")]
    assert agents_for_join(rules, "room-1", "", "bob", {}, MONDAY_NOON_UTC) == []


def test_agents_for_join_drops_the_duplicate_default() -> None:
    rules = rules_from(document([], default={"dispatch": ["greeter"]}))
    assert agents_for_join(rules, "r", now=MONDAY_NOON_UTC) == [AgentDispatch("greeter")]


def test_room_configuration_is_the_livekit_api_message() -> None:
    config = room_configuration([AgentDispatch("qualifier", '{"a":1}')])
    assert isinstance(config, api.RoomConfiguration)
    assert [(a.agent_name, a.metadata) for a in config.agents] == [("qualifier", '{"a":1}')]


def test_number_rules_compile_to_sip_dispatch_rules_with_static_metadata() -> None:
    rules = rules_from(
        document(
            [
                rule(
                    "sales",
                    {
                        **SALES,
                        "sip.phoneNumber": ["+15550000002", "+15550000001"],
                        "sip.trunkID": "ST_1",
                    },
                    {
                        "agent": "qualifier",
                        "metadata": {"line": "{sip.trunkPhoneNumber}", "from": "{event}"},
                    },
                )
            ]
        )
    )
    report = compile_native(rules, room_prefix="sales")
    assert report.webhook_only == ()
    assert report.native_rule_ids == {"sales"}
    assert report.sip_rules == (
        SipDispatchRule(
            name="switchboard:sales",
            numbers=("+19497710000",),
            inbound_numbers=("+15550000001", "+15550000002"),
            trunk_ids=("ST_1",),
            room_prefix="sales",
            agents=(
                AgentDispatch("qualifier", '{"line":"+19497710000","from":"participant_joined"}'),
            ),
        ),
    )


def test_a_kind_only_rule_compiles_to_a_catch_all_sip_rule() -> None:
    report = compile_native(
        rules_from(document([rule("all-calls", {"participant.kind": "SIP"}, "x")]))
    )
    (sip,) = report.sip_rules
    assert (sip.numbers, sip.inbound_numbers, sip.trunk_ids) == ((), (), ())


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ({**SALES, "time": {"timezone": "UTC", "from": "09:00", "to": "17:00"}}, "uses 'time'"),
        ({**SALES, "percentage": 10}, "uses 'percentage'"),
        ({"any": [SALES]}, "uses 'any'"),
        ({**SALES, "room.metadata.flow": "x"}, "uses room.metadata.flow"),
        ({**SALES, "sip.phoneNumber": {"glob": "+1*"}}, "with 'glob'"),
        ({"sip.trunkPhoneNumber": "+1", "participant.kind": ["SIP", "STANDARD"]}, "other than SIP"),
        ({"event": "room_started", "participant.kind": "SIP"}, "does not match participant_joined"),
        ({"event": "participant_joined"}, "does not require a SIP participant"),
        (
            {"all": [{"sip.trunkPhoneNumber": "+1"}, {"sip.trunkPhoneNumber": "+2"}]},
            "can never match",
        ),
    ],
)
def test_rules_needing_runtime_data_stay_webhook_only(when: dict[str, Any], reason: str) -> None:
    assert reason in reasons(rule("r", when, "x"))["r"]


def test_metadata_known_only_when_the_call_arrives_keeps_a_rule_webhook_only() -> None:
    found = reasons(rule("r", SALES, {"agent": "q", "metadata": '{"caller": "{sip.phoneNumber}"}'}))
    assert "uses {participant.attributes[sip.phoneNumber]}" in found["r"]


def test_an_earlier_overlapping_rule_keeps_a_later_one_webhook_only() -> None:
    business = {**SALES, "time": {"timezone": "UTC", "from": "09:00", "to": "17:00"}}
    found = reasons(rule("day", business, "day-agent"), rule("night", SALES, "night-agent"))
    assert "earlier rule 'day' may match the same calls" in found["night"]


@pytest.mark.parametrize(
    "earlier",
    [
        {"event": "room_started", "room.metadata.flow": "outbound"},
        {"participant.kind": "STANDARD", "room.name": {"glob": "*"}},
        {
            "sip.trunkPhoneNumber": "+14155550100",
            "time": {"timezone": "UTC", "from": "09:00", "to": "17:00"},
        },
    ],
)
def test_earlier_rules_that_cannot_match_the_same_calls_do_not_block(
    earlier: dict[str, Any],
) -> None:
    assert "sales" not in reasons(rule("other", earlier, "x"), rule("sales", SALES, "q"))


SALES_RULE = SipDispatchRule("switchboard:sales", numbers=("+1",), agents=(AgentDispatch("q"),))


def _with_id(rule: SipDispatchRule, rule_id: str) -> SipDispatchRule:
    return replace(rule, sip_dispatch_rule_id=rule_id)


def test_diff_creates_updates_deletes_only_owned_rules() -> None:
    stale = _with_id(SipDispatchRule("switchboard:old"), "SDR_old")
    changed = _with_id(SipDispatchRule("switchboard:sales", numbers=("+2",)), "SDR_sales")
    foreign = _with_id(SipDispatchRule("catch-all"), "SDR_foreign")
    new = SipDispatchRule("switchboard:new", inbound_numbers=("+3",))
    plan = diff([SALES_RULE, new], [stale, changed, foreign])
    assert plan.create == (new,)
    assert plan.update == (_with_id(SALES_RULE, "SDR_sales"),)
    assert plan.delete == (stale,)
    assert plan.summary().splitlines() == [
        "create switchboard:new",
        "update switchboard:sales (SDR_sales)",
        "delete switchboard:old (SDR_old)",
    ]


def test_diff_of_an_up_to_date_server_is_empty_and_ignores_list_order() -> None:
    current = _with_id(SipDispatchRule("switchboard:a", numbers=("+2", "+1")), "SDR_a")
    plan = diff([SipDispatchRule("switchboard:a", numbers=("+1", "+2"))], [current])
    assert plan.is_empty
    assert plan.unchanged == (current,)
    assert plan.summary() == "nothing to change"


def test_diff_deletes_duplicate_owned_rules() -> None:
    first, second = _with_id(SALES_RULE, "SDR_1"), _with_id(SALES_RULE, "SDR_2")
    plan = diff([SALES_RULE], [first, second])
    assert plan.delete == (second,)
    assert plan.unchanged == (first,)


def test_diff_refuses_desired_rules_it_does_not_own() -> None:
    with pytest.raises(ValueError, match="switchboard:"):
        diff([SipDispatchRule("mine")], [])


def test_protobuf_round_trip_through_livekit_api_types() -> None:
    rule = SipDispatchRule(
        "switchboard:sales",
        numbers=("+19497710000",),
        inbound_numbers=("+1555",),
        trunk_ids=("ST_1",),
        room_prefix="call",
        agents=(AgentDispatch("qualifier", "{}"),),
    )
    info = to_sip_dispatch_rule_info(rule)
    assert isinstance(info, api.SIPDispatchRuleInfo)
    assert info.rule.dispatch_rule_individual.room_prefix == "call"
    assert info.room_config.agents[0].agent_name == "qualifier"
    request = to_create_request(rule)
    assert isinstance(request, api.CreateSIPDispatchRuleRequest)
    assert request.dispatch_rule.name == "switchboard:sales"
    server_copy = api.SIPDispatchRuleInfo()
    server_copy.CopyFrom(info)
    server_copy.sip_dispatch_rule_id = "SDR_9"
    parsed = from_sip_dispatch_rule_info(server_copy)
    assert parsed.sip_dispatch_rule_id == "SDR_9"
    assert parsed.same_config(rule)
    update = to_update_request(parsed)
    assert isinstance(update, api.UpdateSIPDispatchRuleRequest)
    assert update.sip_dispatch_rule_id == "SDR_9"
    assert update.replace.numbers == ["+19497710000"]


def test_server_rules_of_other_types_differ_from_desired_ones() -> None:
    info = api.SIPDispatchRuleInfo(
        name="switchboard:sales",
        rule=api.SIPDispatchRule(dispatch_rule_direct=api.SIPDispatchRuleDirect(room_name="x")),
    )
    parsed = from_sip_dispatch_rule_info(info)
    assert parsed.rule_type == "dispatchRuleDirect"
    assert not parsed.same_config(SipDispatchRule("switchboard:sales"))
    with pytest.raises(ValueError, match="sip_dispatch_rule_id"):
        to_update_request(SALES_RULE)
