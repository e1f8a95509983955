"""The shipped examples load, and their sample events decide as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.rules import compile_native, load_rules

EXAMPLES = Path(__file__).parents[3] / "examples" / "rules"


def decide(rules_file: str, event_file: str) -> tuple[str, list[dict[str, str]]]:
    rules = load_rules(EXAMPLES / rules_file)
    payload = json.loads((EXAMPLES / "events" / event_file).read_text())
    decision = rules.decide(payload)
    assert decision.errors == ()
    return decision.rule_id, [dispatch.to_json() for dispatch in decision.dispatches]


@pytest.mark.parametrize(
    ("event_file", "rule_id", "agents"),
    [
        ("seed-sip-call.json", "inbound-qualifier", ["qualifier"]),
        ("seed-sip-other-number.json", "default", []),
        ("seed-outbound-room.json", "outbound-caller", ["outbound-caller"]),
        ("seed-web-join.json", "default", []),
    ],
)
def test_seed_example(event_file: str, rule_id: str, agents: list[str]) -> None:
    decided_rule, dispatches = decide("seed.yaml", event_file)
    assert (decided_rule, [d["agent"] for d in dispatches]) == (rule_id, agents)


def test_seed_example_metadata() -> None:
    _, outbound = decide("seed.yaml", "seed-outbound-room.json")
    assert json.loads(outbound[0]["metadata"]) == {
        "number": "+15550000042",
        "sip_trunk_id": "ST_9mXk2PqR7vTz",
        "human_identity": "customer-C-42",
        "room": "outbound-C-42-7f3a",
    }
    _, inbound = decide("seed.yaml", "seed-sip-call.json")
    assert json.loads(inbound[0]["metadata"]) == {"flow": "inbound", "line": "+19497710000"}


def test_seed_example_compiles_the_inbound_rule_natively() -> None:
    report = compile_native(load_rules(EXAMPLES / "seed.yaml"))
    assert report.native_rule_ids == {"inbound-qualifier"}
    assert report.sip_rules[0].numbers == ("+19497710000",)


@pytest.mark.parametrize(
    ("event_file", "rule_id", "agent"),
    [
        ("bh-weekday-morning.json", "business-hours", "qualifier"),
        ("bh-weekday-canary.json", "qualifier-v2-canary", "qualifier-v2"),
        ("bh-weekday-night.json", "after-hours", "after-hours"),
        ("bh-saturday.json", "after-hours", "after-hours"),
    ],
)
def test_business_hours_example(event_file: str, rule_id: str, agent: str) -> None:
    decided_rule, dispatches = decide("business-hours.yaml", event_file)
    assert (decided_rule, [d["agent"] for d in dispatches]) == (rule_id, [agent])
    assert json.loads(dispatches[0]["metadata"])["caller"].startswith("+1555")


def test_every_sample_event_is_webhook_shaped() -> None:
    for path in (EXAMPLES / "events").glob("*.json"):
        payload = json.loads(path.read_text())
        assert set(payload) <= {"event", "room", "participant", "id", "createdAt"}, path
        assert payload["id"].startswith("EV_") and payload["createdAt"].isdigit(), path
        participant = payload.get("participant", {})
        assert participant.get("kind") != "STANDARD", f"{path}: proto3 JSON omits zero values"
