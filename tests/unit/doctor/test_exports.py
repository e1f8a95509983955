"""SIP JSON exports: shapes, spellings and kinds."""

from __future__ import annotations

import json
from pathlib import Path

from switchboard.doctor.loaders.exports import load_export_file


def _write(tmp_path: Path, data: object, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def test_recognises_inbound_outbound_and_rule_by_their_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"sipTrunkId": "ST_in", "numbers": ["+1"]},
            {"sipTrunkId": "ST_out", "address": "x.pstn.twilio.com"},
            {"sipDispatchRuleId": "SDR_1", "rule": {"dispatchRuleDirect": {"roomName": "r"}}},
        ],
    )

    inventory = load_export_file(path)

    assert [t.trunk_id for t in inventory.inbound_trunks] == ["ST_in"]
    assert [t.trunk_id for t in inventory.outbound_trunks] == ["ST_out"]
    (rule,) = inventory.dispatch_rules
    assert (rule.rule_id, rule.kind, rule.room_name) == ("SDR_1", "direct", "r")


def test_camel_and_snake_case_give_the_same_rule(tmp_path: Path) -> None:
    camel = {
        "sipDispatchRuleId": "SDR_1",
        "rule": {"dispatchRuleIndividual": {"roomPrefix": "call"}},
        "trunkIds": ["ST_1"],
        "roomConfig": {"agents": [{"agentName": "qualifier"}], "departureTimeout": 15},
        "attributes": {"callerType": "vip"},
    }
    snake = {
        "sip_dispatch_rule_id": "SDR_1",
        "rule": {"dispatch_rule_individual": {"room_prefix": "call"}},
        "trunk_ids": ["ST_1"],
        "room_config": {"agents": [{"agent_name": "qualifier"}], "departure_timeout": 15},
        "attributes": {"callerType": "vip"},
    }

    (a,) = load_export_file(_write(tmp_path, camel, "a.json")).dispatch_rules
    (b,) = load_export_file(_write(tmp_path, snake, "b.json")).dispatch_rules

    assert a.model_dump(exclude={"source"}) == b.model_dump(exclude={"source"})
    assert a.agents == ["qualifier"]
    assert a.attributes == {"callerType": "vip"}  # user keys keep their spelling
    assert a.room_config is not None and a.room_config.departure_timeout == 15


def test_header_names_in_headers_to_attributes_keep_their_spelling(tmp_path: Path) -> None:
    path = _write(tmp_path, {"sipTrunkId": "ST", "headersToAttributes": {"X-CallerId": "callerId"}})

    (trunk,) = load_export_file(path).inbound_trunks

    assert trunk.headers_to_attributes == {"X-CallerId": "callerId"}


def test_items_wrapper_and_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, {"items": [{"sipTrunkId": "ST_a"}, {"sipTrunkId": "ST_b"}]})

    trunks = load_export_file(path).inbound_trunks

    assert [t.source for t in trunks] == [f"{path}:3", f"{path}:6"]


def test_lk_create_file_wrappers(tmp_path: Path) -> None:
    inbound = _write(tmp_path, {"trunk": {"name": "in", "numbers": ["+1"]}}, "in.json")
    outbound = _write(tmp_path, {"trunk": {"name": "out", "address": "sip.x"}}, "out.json")
    rule = _write(
        tmp_path,
        {"dispatch_rule": {"rule": {"dispatchRuleCallee": {"roomPrefix": "c"}}}, "trunk_ids": []},
        "rule.json",
    )

    assert load_export_file(inbound).inbound_trunks[0].name == "in"
    assert load_export_file(outbound).outbound_trunks[0].address == "sip.x"
    assert load_export_file(rule).dispatch_rules[0].kind == "callee"


def test_legacy_kind_field_decides_direction(tmp_path: Path) -> None:
    path = _write(tmp_path, {"sipTrunkId": "ST", "kind": "TRUNK_OUTBOUND", "name": "x"})

    assert len(load_export_file(path).outbound_trunks) == 1


def test_invalid_json_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "sipTrunkId": "ST",\n}\n')

    (problem,) = load_export_file(path).problems

    assert problem.source == f"{path}:3"
    assert "not valid JSON" in problem.message


def test_unrecognised_json_is_a_problem_only_when_named_explicitly(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "my-app", "version": "1.0.0"}, "package.json")

    assert load_export_file(path, explicit=True).problems
    assert not load_export_file(path, explicit=False).problems
