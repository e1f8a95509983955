"""The pure part of start_agent_room: job metadata as the agent receives it."""

from __future__ import annotations

from switchboard.handoff import dispatch_metadata


def test_strings_pass_through() -> None:
    assert dispatch_metadata("raw") == "raw"
    assert dispatch_metadata('{"b": 1}') == '{"b": 1}'


def test_mappings_become_compact_sorted_json() -> None:
    assert dispatch_metadata({"b": 1, "a": "x"}) == '{"a":"x","b":1}'
