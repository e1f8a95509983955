"""Operators: literal prefixes for indexing, and glob fast paths that agree with fnmatch."""

from __future__ import annotations

import fnmatch
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.rules.operators import glob_prefix, predicate, regex_prefix, requirement

from .helpers import MONDAY_NOON_UTC, document, room_started, rules_from


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("^sales-", "sales-"),
        (r"^\+1949", "+1949"),
        (r"^C\.7", "C.7"),
        ("^ab?c", "a"),
        ("^ab+c", "ab"),
        ("^ab*", "a"),
        ("^a{2}", ""),
        (r"^\d+", ""),
        ("^(a|b)", ""),
        ("^a|b", ""),
        ("sales", ""),
        ("^", ""),
    ],
)
def test_regex_prefixes_are_conservative(pattern: str, prefix: str) -> None:
    assert regex_prefix(pattern) == prefix


@pytest.mark.parametrize(
    ("pattern", "prefix"), [("team-*", "team-"), ("a?c", "a"), ("[ab]*", ""), ("exact", "exact")]
)
def test_glob_prefixes(pattern: str, prefix: str) -> None:
    assert glob_prefix(pattern) == prefix


def test_requirements() -> None:
    assert requirement("glob", "exact") is not None
    exact = requirement("glob", "exact")
    assert exact is not None and not exact.prefix
    prefixed = requirement("regex", "^call_")
    assert prefixed is not None and prefixed.prefix and prefixed.values == {"call_"}
    assert requirement("glob", "*x") is None
    assert requirement("eq", 5) is None
    assert requirement("in", ["a", 1]) is None


@settings(max_examples=300)
@given(
    pattern=st.text(alphabet="ab*?[]!-", max_size=6),
    value=st.text(alphabet="ab-[]*?!", max_size=6),
)
def test_glob_fast_paths_agree_with_fnmatch(pattern: str, value: str) -> None:
    assert predicate("glob", pattern)(value) == fnmatch.fnmatchcase(value, pattern)


@settings(max_examples=300)
@given(
    pattern=st.text(alphabet=r"^ab.+*?\-{}1", min_size=1, max_size=6),
    value=st.text(alphabet="ab.+-1", max_size=6),
)
def test_regex_prefix_is_necessary_for_a_match(pattern: str, value: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    if compiled.search(value):
        assert value.startswith(regex_prefix(pattern))


def test_the_prefix_index_keeps_first_match_order_across_prefix_lengths() -> None:
    rules = rules_from(
        document(
            [
                {"id": "long", "when": {"room.name": {"glob": "team-12-*"}}, "then": "nobody"},
                {"id": "short", "when": {"room.name": {"regex": "^team-"}}, "then": "nobody"},
                {"id": "exact", "when": {"room.name": "team-12-x"}, "then": "nobody"},
                {"id": "other", "when": {"room.name": {"glob": "*-x"}}, "then": "nobody"},
            ]
        )
    )
    decide = lambda name: rules.decide(room_started(name), MONDAY_NOON_UTC).rule_id  # noqa: E731
    assert decide("team-12-x") == "long"
    assert decide("team-13-x") == "short"
    assert decide("solo-x") == "other"
    assert decide("te") == "default"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*-vip", "room-vip", True),
        ("*-vip", "room-vip-2", False),
        ("*vip*", "a-vip-b", True),
        ("*vip*", "a-vi-p", False),
        ("**", "", True),
        ("*", "anything", True),
        ("*a?", "xab", True),
    ],
)
def test_glob_shapes(pattern: str, value: str, expected: bool) -> None:
    assert predicate("glob", pattern)(value) is expected
    assert predicate("glob", pattern)(5) is False
