"""The watchdog's judgement: who is alone, how long is too long, and what after the recoveries."""

from __future__ import annotations

import pytest

from switchboard.livekit import ParticipantState
from switchboard.service.watchdog import (
    RoomWatch,
    Verdict,
    WatchdogAction,
    WatchdogPolicy,
    after_action,
    alone_caller,
    judge,
    observe,
)

POLICY = WatchdogPolicy(seconds=2.0, join_seconds=20.0, max_recoveries=2)
CALLER = ParticipantState(identity="sip_+15550001", kind="SIP", state="ACTIVE")
AGENT = ParticipantState(identity="agent-AJ_1", kind="AGENT", state="ACTIVE")
HUMAN = ParticipantState(identity="sip_+15558675309", kind="SIP", state="ACTIVE")
WEB = ParticipantState(identity="web-caller", kind="STANDARD", state="ACTIVE")
EGRESS = ParticipantState(identity="EG_1", kind="EGRESS", state="ACTIVE")


@pytest.mark.parametrize(
    ("participants", "alone"),
    [
        ([CALLER], CALLER.identity),
        ([WEB], WEB.identity),
        ([CALLER, EGRESS], CALLER.identity),
        ([CALLER, AGENT], None),
        ([CALLER, HUMAN], None),
        ([], None),
        ([AGENT], None),
        ([CALLER, ParticipantState("agent-AJ_2", "AGENT", "DISCONNECTED")], CALLER.identity),
    ],
    ids=["sip", "web", "egress-is-nobody", "agent", "human", "empty", "agent-only", "agent-gone"],
)
def test_a_caller_is_alone_with_no_agent_and_no_other_person(
    participants: list[ParticipantState], alone: str | None
) -> None:
    assert alone_caller(participants) == alone


def test_the_alone_clock_starts_when_first_seen_alone_and_stops_when_someone_comes() -> None:
    watch, caller = observe(RoomWatch(), [CALLER, AGENT], now=10.0)
    assert (watch, caller) == (RoomWatch(None, agent_seen=True), None)
    watch, caller = observe(watch, [CALLER], now=11.0)
    assert (watch, caller) == (RoomWatch(11.0, agent_seen=True), CALLER.identity)
    watch, _ = observe(watch, [CALLER], now=12.5)
    assert watch.alone_since == 11.0
    watch, caller = observe(watch, [CALLER, HUMAN], now=13.0)
    assert (watch, caller) == (RoomWatch(None, agent_seen=True), None)


def test_after_an_agent_left_the_caller_waits_seconds_then_gets_recovery_1() -> None:
    watch = RoomWatch(alone_since=100.0, agent_seen=True)
    assert judge(watch, CALLER.identity, 0, 101.9, POLICY).action is WatchdogAction.WAIT
    verdict = judge(watch, CALLER.identity, 0, 102.0, POLICY)
    assert verdict == Verdict(
        WatchdogAction.REDISPATCH,
        CALLER.identity,
        1,
        "the agent left and the caller was alone 2.0s",
    )


def test_with_no_agent_seen_yet_the_first_join_gets_join_seconds() -> None:
    """A caller waits for the first agent as long as an agent may take to join: an early
    re-dispatch would put a second agent in the room."""
    watch = RoomWatch(alone_since=100.0, agent_seen=False)
    assert judge(watch, CALLER.identity, 0, 119.0, POLICY).action is WatchdogAction.WAIT
    verdict = judge(watch, CALLER.identity, 0, 120.0, POLICY)
    assert verdict.action is WatchdogAction.REDISPATCH
    assert verdict.reason.startswith("no agent joined")


def test_after_acting_the_next_agent_must_join_within_join_seconds() -> None:
    watch = after_action(RoomWatch(alone_since=100.0, agent_seen=True), now=102.0)
    assert watch == RoomWatch(102.0, agent_seen=False)
    assert judge(watch, CALLER.identity, 1, 110.0, POLICY).action is WatchdogAction.WAIT
    assert judge(watch, CALLER.identity, 1, 122.0, POLICY).recovery == 2


def test_recoveries_exhausted_without_an_overflow_agent_hang_up_once() -> None:
    watch = RoomWatch(alone_since=0.0, agent_seen=True)
    hang_up = judge(watch, CALLER.identity, 2, 60.0, POLICY)
    assert (hang_up.action, hang_up.recovery) == (WatchdogAction.HANG_UP, 3)
    assert "after 2 recoveries" in hang_up.reason
    assert judge(watch, CALLER.identity, 3, 60.0, POLICY).action is WatchdogAction.NOTHING


def test_recoveries_exhausted_with_an_overflow_agent_dispatch_it_then_hang_up() -> None:
    policy = WatchdogPolicy(seconds=2.0, join_seconds=20.0, max_recoveries=1, overflow_agent="ivr")
    watch = RoomWatch(alone_since=0.0, agent_seen=True)
    assert judge(watch, CALLER.identity, 1, 60.0, policy).action is WatchdogAction.OVERFLOW_AGENT
    last = judge(watch, CALLER.identity, 2, 60.0, policy)
    assert (last.action, last.recovery) == (WatchdogAction.HANG_UP, 3)
    assert judge(watch, CALLER.identity, 3, 60.0, policy).action is WatchdogAction.NOTHING


def test_zero_recoveries_means_straight_to_the_overflow() -> None:
    policy = WatchdogPolicy(seconds=2.0, join_seconds=20.0, max_recoveries=0)
    watch = RoomWatch(alone_since=0.0, agent_seen=True)
    assert judge(watch, CALLER.identity, 0, 5.0, policy).action is WatchdogAction.HANG_UP


def test_nobody_alone_means_nothing_to_do() -> None:
    assert judge(RoomWatch(), None, 0, 1e9, POLICY).action is WatchdogAction.NOTHING
