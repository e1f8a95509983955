"""Which recorded leave ends a room's agents while people stay (``gone_by_event``): pure."""

from __future__ import annotations

from typing import Any

from switchboard.store import TimelineEntry, TimelineKind
from switchboard.tracing.gone import gone_by_event
from tests.unit.tracing.test_trace import CALLER, HUMAN, ROOM, at, event, warm_transfer


def event_id(entry: TimelineEntry) -> str:
    return str(entry.detail["event_id"])


def leaves(entries: list[TimelineEntry]) -> dict[str, TimelineEntry]:
    """The participant_left entries of ``entries`` by identity."""
    return {
        entry.detail["body"]["participant"]["identity"]: entry
        for entry in entries
        if entry.summary == "participant_left"
    }


def raw(seconds: float, body: Any) -> TimelineEntry:
    """An event entry whose body is whatever livekit-server (or anyone) posted."""
    return TimelineEntry(
        at(seconds), TimelineKind.EVENT, "participant_left", {"event_id": "EV_raw", "body": body}
    )


def test_the_second_agent_leaving_a_warm_transfer_ends_the_agents() -> None:
    entries = warm_transfer()
    left = leaves(entries)
    gone = gone_by_event(ROOM, entries, event_id(left["AJ_q"]))
    assert gone is not None
    assert (gone.first_left, gone.last_left) == (at(32.5), at(32.6))
    assert {p.identity for p in gone.agents} == {"AJ_q", "AJ_o"}
    assert {p.identity for p in gone.stayed} == {CALLER, HUMAN}


def test_no_other_event_of_the_call_ends_the_agents() -> None:
    entries = warm_transfer()
    last_agent = event_id(leaves(entries)["AJ_q"])
    for entry in entries:
        if entry.kind is TimelineKind.EVENT and event_id(entry) != last_agent:
            assert gone_by_event(ROOM, entries, event_id(entry)) is None, entry.summary


def test_an_agent_leaving_an_empty_room_ends_nothing() -> None:
    entries = [
        event(0.0, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_q", "AGENT"),
        event(5.0, "participant_left", CALLER, "SIP"),
        event(6.0, "participant_left", "AJ_q", "AGENT"),
    ]
    assert gone_by_event(ROOM, entries, event_id(entries[-1])) is None


def test_a_second_leave_of_the_same_agent_ends_nothing_again() -> None:
    entries = [
        event(0.0, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_q", "AGENT"),
        event(6.0, "participant_connection_aborted", "AJ_q", "AGENT"),
        event(6.5, "participant_left", "AJ_q", "AGENT"),
    ]
    gone = gone_by_event(ROOM, entries, event_id(entries[2]))
    assert gone is not None and gone.first_left == gone.last_left == at(6.0)
    assert gone_by_event(ROOM, entries, event_id(entries[3])) is None


def test_an_agent_that_left_before_the_last_one_joined_does_not_start_it() -> None:
    entries = [
        event(0.0, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_hold", "AGENT"),
        event(9.0, "participant_joined", "AJ_q", "AGENT"),
        event(9.5, "participant_left", "AJ_hold", "AGENT"),
        event(10.0, "participant_joined", "AJ_late", "AGENT"),
        event(20.0, "participant_left", "AJ_q", "AGENT"),
        event(21.0, "participant_left", "AJ_late", "AGENT"),
    ]
    gone = gone_by_event(ROOM, entries, event_id(entries[-1]))
    assert gone is not None and (gone.first_left, gone.last_left) == (at(20.0), at(21.0))


def test_an_agent_back_after_the_agents_left_ends_them_again() -> None:
    entries = [
        event(0.0, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_q", "AGENT"),
        event(5.0, "participant_left", "AJ_q", "AGENT"),
        event(8.0, "participant_joined", "AJ_r", "AGENT"),
        event(12.0, "participant_left", "AJ_r", "AGENT"),
    ]
    first, second = (gone_by_event(ROOM, entries, event_id(entries[i])) for i in (2, 4))
    assert first is not None and first.last_left == at(5.0)
    assert second is not None and (second.first_left, second.last_left) == (at(12.0), at(12.0))


def test_a_partial_or_malformed_leave_ends_nothing_and_raises_nothing() -> None:
    people = [
        event(0.0, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_q", "AGENT"),
    ]
    bodies: list[Any] = [
        None,
        "participant_left",
        [],
        {"event": "participant_left"},
        {"event": "participant_left", "room": {"name": ROOM}, "participant": None},
        {"event": "participant_left", "participant": {"kind": "AGENT"}},
        {"event": "participant_left", "participant": {"identity": "AJ_q"}},
        {"event": "participant_left", "participant": {"identity": "AJ_q", "kind": "ROBOT"}},
    ]
    for body in bodies:
        entries = [*people, raw(5.0, body)]
        assert gone_by_event(ROOM, entries, "EV_raw") is None, body
    assert gone_by_event(ROOM, people, "EV_not_recorded") is None
    # The protocol's number for AGENT is an agent all the same.
    numbered = {"event": "participant_left", "participant": {"identity": "AJ_q", "kind": 4}}
    assert gone_by_event(ROOM, [*people, raw(5.0, numbered)], "EV_raw") is not None
