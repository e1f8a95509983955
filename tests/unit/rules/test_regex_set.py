"""The regex set index: never drops a rule whose regex ``re.search`` would match."""

from __future__ import annotations

import re
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.rules import RoomEvent, load_rules_text
from switchboard.rules.regex_set import RegexSet, comparable, indexable

from .helpers import MONDAY_NOON_UTC as NOW
from .helpers import document

FRAGMENTS = [
    "a",
    "b",
    "-",
    "vip",
    "\\d",
    "\\w",
    "\\s",
    "\\b",
    ".",
    "^",
    "$",
    "[a-c]",
    "[^a]",
    "[:]",
    "(",
    ")",
    "|",
    "*",
    "+",
    "?",
    "{2}",
    "{1,3}",
    "(?i)",
    "(?:",
    "\\.",
    "\\Z",
    "(?=a)",
    "\\1",
    "[[:digit:]]",
    "{,2}",
    "é",
    "\\D",
    "[\\s\\d]",
]
patterns = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join)
texts = st.text(alphabet="abcAB-vip 09_.:\t\né\u0661", max_size=12)


def _valid(pattern: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": still valid
            re.compile(pattern)
    except re.error:
        return False
    return True


@settings(max_examples=600)
@given(pattern=patterns, text=texts)
def test_a_set_candidate_is_never_missing_for_a_text_re_matches(pattern: str, text: str) -> None:
    if not _valid(pattern) or not indexable(pattern):
        return
    regexes = RegexSet()
    regexes.add(pattern, 0)
    regexes.compile()
    found = 0 in regexes.candidates(text)
    if re.search(pattern, text):
        assert found, (pattern, text)
    elif comparable(text):
        assert not found, (pattern, text)  # the set is exact where it is used


def test_constructs_read_differently_are_not_indexed() -> None:
    for pattern in ["(?<=a)b", "(a)\\1", "a\\Z", "[[:digit:]]", "x{,2}", "café", "(?x) a"]:
        assert not indexable(pattern), pattern
    assert indexable("-vip-\\d+$")


def test_texts_re2_could_read_differently_get_every_rule() -> None:
    regexes = RegexSet()
    for position, pattern in enumerate(["^a$", "b", "c$"]):
        regexes.add(pattern, position)
    regexes.compile()
    assert list(regexes.candidates("abc")) == [1, 2]
    assert list(regexes.candidates("zz")) == []
    assert list(regexes.candidates("c\n")) == [0, 1, 2]  # re's $ matches before a final newline
    assert list(regexes.candidates("\u0661")) == [0, 1, 2]  # re's \d matches Arabic digits


def test_regex_rules_are_indexed_and_agree_with_evaluating_every_rule() -> None:
    rule_dicts = [
        {
            "id": f"vip{n}",
            "when": {"event": "room_started", "room.name": {"regex": f"-vip-{n}$"}},
            "then": {"dispatch": ["x"]},
        }
        for n in range(200)
    ]
    rule_dicts.insert(50, {"id": "any-7", "when": {"room.name": {"regex": "7"}}, "then": "nobody"})
    rules = load_rules_text(document(rule_dicts))
    for name in [
        "a-vip-0",
        "a-vip-17",
        "a-vip-170",
        "a-vip-199",
        "a-vip-7",
        "b-vip-3\n",
        "other",
        "٣-vip-3",
    ]:
        event = RoomEvent.from_webhook_dict({"event": "room_started", "room": {"name": name}})
        decision = rules.decide(event, NOW)
        linear = next((t.rule_id for t in rules.trace(event, NOW, -1) if t.matched), "default")
        assert decision.rule_id == linear, name
    event = RoomEvent.from_webhook_dict({"event": "room_started", "room": {"name": "a-vip-170"}})
    assert rules.decide(event, NOW).rule_id == "any-7"  # an earlier rule, another index entry
