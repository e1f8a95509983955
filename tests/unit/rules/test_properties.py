"""Properties that must hold for any input: hypothesis searches for counterexamples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.rules import RoomEvent, RulesError, load_rules, load_rules_text
from switchboard.rules.rollout import bucket_of

from .helpers import document

EXAMPLES = Path(__file__).parents[3] / "examples" / "rules"
WORDS = ["", "a", "b", "sales-1", "sales-2", "+1555", "SIP", "outbound", "7"]
FIELDS = ["room.name", "participant.identity", "sip.phoneNumber", "room.metadata.flow", "event"]

RICH_RULES = load_rules_text(
    document(
        [
            {
                "id": "everything",
                "when": {
                    "room.metadata.customer.tier": {"in": ["gold", 1, None, True]},
                    "room.metadata.n": {"gt": 2, "lte": 10},
                    "participant.identity": {"regex": "^sip_", "glob": "*"},
                    "participant.metadata.x": {"exists": True},
                    "time": {
                        "timezone": "Europe/Berlin",
                        "days": "fri-mon",
                        "from": "22:00",
                        "to": "06:00",
                    },
                    "percentage": {"percent": 50, "key": "room.metadata.customer"},
                    "any": [{"sip.phoneNumber": {"ne": "+1"}}, {"not": {"event": "room_started"}}],
                },
                "then": {
                    "dispatch": [
                        {
                            "agent": "a",
                            "metadata": '{"m": {room.metadata.customer?}, '
                            '"c": "{sip.phoneNumber?}"}',
                        }
                    ]
                },
            },
            {
                "id": "meta",
                "when": {"event": "room_started"},
                "then": {
                    "dispatch": [
                        {
                            "agent": "b",
                            "metadata": {"n": "{room.metadata.n}", "i": "{participant.identity}"},
                        }
                    ]
                },
            },
        ],
        default={"dispatch": [{"agent": "d", "metadata": "{room.name} {participant.kind}"}]},
    )
)
ALL_RULES = [
    RICH_RULES,
    load_rules(EXAMPLES / "seed.yaml"),
    load_rules(EXAMPLES / "business-hours.yaml"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
webhook_keys = st.sampled_from(
    [
        "event",
        "id",
        "createdAt",
        "room",
        "participant",
        "name",
        "sid",
        "metadata",
        "kind",
        "attributes",
        "identity",
        "emptyTimeout",
        "sip.phoneNumber",
        "customer",
        "n",
        "x",
    ]
) | st.text(max_size=8)
event_dicts = st.recursive(
    json_values,
    lambda children: st.dictionaries(
        webhook_keys, children | st.text(max_size=30).map(json.dumps), max_size=6
    ),
    max_leaves=30,
).filter(lambda value: isinstance(value, dict))
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(payload=event_dicts, now=st.none() | instants)
def test_decide_never_raises_on_any_event_dict(
    payload: dict[str, Any], now: datetime | None
) -> None:
    for rules in ALL_RULES:
        decision = rules.decide(payload, now)
        json.dumps(decision.to_json())
        assert decision.explain()


def plausible_event(event: str, room: str, identity: str, caller: str, flow: str) -> dict[str, Any]:
    return {
        "event": event,
        "room": {"name": room, "metadata": json.dumps({"flow": flow})},
        "participant": {
            "identity": identity,
            "kind": "SIP",
            "attributes": {"sip.phoneNumber": caller},
        },
    }


events = st.builds(
    plausible_event,
    st.sampled_from(["room_started", "participant_joined"]),
    *(st.sampled_from(WORDS) for _ in range(4)),
)
GLOBS = ["sales-*", "s*", "*1", "+1*", "sales-?", "[ab]", "a"]
REGEXES = ["^sales-", "^s", "1$", r"^\+1", "^a+", "out"]


def leaf(field: str, op: str, word: str, words: list[str], glob: str, regex: str) -> dict[str, Any]:
    operand: Any = {"in": words, "exists": word != "a", "glob": glob, "regex": regex}.get(op, word)
    return {field: {op: operand}}


leaves = st.builds(
    leaf,
    st.sampled_from(FIELDS[:-1]),
    st.sampled_from(["eq", "ne", "in", "glob", "regex", "exists"]),
    st.sampled_from([w for w in WORDS if w]),
    st.lists(st.sampled_from([w for w in WORDS if w]), min_size=1, max_size=3),
    st.sampled_from(GLOBS),
    st.sampled_from(REGEXES),
) | st.sampled_from([{"event": "room_started"}, {"event": "participant_joined"}])
conditions = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items})
        | st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items})
        | children.map(lambda child: {"not": child})
    ),
    max_leaves=6,
)
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def holds(condition: dict[str, Any], event: dict[str, Any]) -> bool:
    rules = load_rules_text(document([{"id": "r", "when": condition, "then": "nobody"}]))
    return rules.decide(event, NOW).rule_id == "r"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(rule_conditions=st.lists(conditions, min_size=1, max_size=6), event=events)
def test_the_first_rule_whose_condition_holds_wins(
    rule_conditions: list[dict[str, Any]], event: dict[str, Any]
) -> None:
    rules = load_rules_text(
        document(
            [
                {"id": f"r{n}", "when": c, "then": {"dispatch": [f"a{n}"]}}
                for n, c in enumerate(rule_conditions)
            ]
        )
    )
    expected = next((f"r{n}" for n, c in enumerate(rule_conditions) if holds(c, event)), "default")
    decision = rules.decide(event, NOW)
    assert decision.rule_id == expected
    trace = decision.trace
    assert [rule.matched for rule in trace] == [rule.rule_id == expected for rule in trace]


@settings(max_examples=150)
@given(condition=conditions, event=events)
def test_not_not_x_is_x(condition: dict[str, Any], event: dict[str, Any]) -> None:
    assert holds({"not": {"not": condition}}, event) == holds(condition, event)
    assert holds({"not": condition}, event) != holds(condition, event)


@settings(max_examples=20, deadline=None)
@given(percent=st.integers(min_value=0, max_value=100), salt=st.text(max_size=10))
def test_percentage_rollout_selects_about_the_requested_share(percent: int, salt: str) -> None:
    keys = [f"+1555{n:07d}" for n in range(4000)]
    selected = sum(bucket_of(salt, key) < percent * 100 for key in keys)
    assert abs(selected / len(keys) * 100 - percent) < 3.5


@settings(max_examples=100)
@given(key=st.text(max_size=20), percent=st.floats(min_value=0, max_value=100))
def test_percentage_rollout_is_stable_per_key(key: str, percent: float) -> None:
    rule = {
        "id": "r",
        "when": {"percentage": {"percent": percent, "key": "sip.phoneNumber", "salt": "s"}},
        "then": "nobody",
    }
    event = {"event": "participant_joined", "participant": {"attributes": {"sip.phoneNumber": key}}}
    first = load_rules_text(document([rule])).decide(event, NOW).rule_id
    second = load_rules_text(document([rule])).decide(event, NOW).rule_id
    assert first == second


VALID = (EXAMPLES / "business-hours.yaml").read_text()


def loads_or_rules_error(text: str) -> None:
    try:
        load_rules_text(text)
    except RulesError as exc:
        assert exc.issues
        assert all(issue.line >= 1 and issue.column >= 1 for issue in exc.issues)


@settings(max_examples=300)
@given(text=st.text())
def test_arbitrary_text_never_produces_a_traceback(text: str) -> None:
    loads_or_rules_error(text)


@settings(max_examples=300)
@given(
    position=st.integers(min_value=0, max_value=len(VALID)),
    cut=st.integers(min_value=0, max_value=40),
    insert=st.text(alphabet=" \t\n:-[]{}'\"#&*!|>,?%@`0123456789abc", max_size=8),
)
def test_mangled_rules_files_only_raise_rules_errors(position: int, cut: int, insert: str) -> None:
    loads_or_rules_error(VALID[:position] + insert + VALID[position + cut :])


@settings(max_examples=100)
@given(value=st.text())
def test_json_templates_always_render_valid_json(value: str) -> None:
    rules = load_rules_text(
        document(
            [],
            default={
                "dispatch": [
                    {
                        "agent": "a",
                        "metadata": '{"caller": "{sip.phoneNumber}", "raw": {sip.phoneNumber}}',
                    }
                ]
            },
        )
    )
    event = {
        "event": "participant_joined",
        "participant": {"attributes": {"sip.phoneNumber": value}},
    }
    (dispatch,) = rules.decide(event, NOW).dispatches
    assert json.loads(dispatch.metadata) == {"caller": value, "raw": value}


def test_indexed_and_unindexed_evaluation_agree_on_many_rules() -> None:
    numbers = [f"+1949771{n:04d}" for n in range(300)]
    rule_dicts = [
        {
            "id": f"n{n}",
            "when": {"sip.trunkPhoneNumber": number, "sip.phoneNumber": {"ne": "+1"}},
            "then": {"dispatch": ["x"]},
        }
        for n, number in enumerate(numbers)
    ]
    rule_dicts.insert(
        150,
        {"id": "glob", "when": {"sip.trunkPhoneNumber": {"glob": "+19497710*"}}, "then": "nobody"},
    )
    rules = load_rules_text(document(rule_dicts))
    for number in [numbers[0], numbers[149], numbers[150], numbers[299], "+19497710100", "+0"]:
        event = RoomEvent.from_webhook_dict(
            {
                "event": "participant_joined",
                "participant": {"attributes": {"sip.trunkPhoneNumber": number}},
            }
        )
        decision = rules.decide(event, NOW)
        linear = next((t.rule_id for t in rules.trace(event, NOW, -1) if t.matched), "default")
        assert decision.rule_id == linear
