"""The waterfall model rebuilt from recorded timelines: pure, no store, no LiveKit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.store import TimelineEntry, TimelineKind
from switchboard.tracing import LaneRole, Step
from switchboard.tracing.rebuild import build_trace, linked_rooms

T0 = datetime(2026, 12, 2, 7, 0, 0, tzinfo=UTC)
ROOM = "call-_+15557770001_abc"
CALLER = "sip_+15557770001"
HUMAN = "human-desk-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(
    seconds: float, kind: str, identity: str = "", pkind: str = "STANDARD", **attributes: str
) -> TimelineEntry:
    body: dict[str, Any] = {
        "event": kind,
        "id": f"EV_{kind}_{identity}_{seconds}",
        "room": {"name": ROOM, "sid": "RM_1"},
    }
    if identity:
        body["participant"] = {"identity": identity, "kind": pkind, "attributes": attributes}
    return TimelineEntry(
        at(seconds), TimelineKind.EVENT, kind, {"event_id": body["id"], "body": body}
    )


def decision(seconds: float, event_id: str, rule: str | None, *agents: str) -> TimelineEntry:
    return TimelineEntry(
        at(seconds),
        TimelineKind.DECISION,
        "decided",
        {
            "event_id": event_id,
            "rule_id": rule,
            "dispatches": [{"agent_name": a, "metadata": ""} for a in agents],
            "explanation": {"text": f"rule {rule} matched: kind is SIP"},
        },
    )


def job(seconds: float, job_id: int, agent: str, event_id: str) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at(seconds),
            TimelineKind.DISPATCH_ENQUEUED,
            "queued",
            {"job_id": job_id, "agent_name": agent, "event_id": event_id},
        ),
        TimelineEntry(
            at(seconds + 0.05),
            TimelineKind.DISPATCH_ATTEMPT,
            "attempt",
            {"job_id": job_id, "attempt": 1, "worker": "w1"},
        ),
    ]


def result(seconds: float, job_id: int, outcome: str, error: str | None = None) -> TimelineEntry:
    return TimelineEntry(
        at(seconds),
        TimelineKind.DISPATCH_RESULT,
        "result",
        {"job_id": job_id, "attempt": 1, "result": outcome, "error": error},
    )


def warm_transfer() -> list[TimelineEntry]:
    joined = event(
        0.5,
        "participant_joined",
        CALLER,
        "SIP",
        **{"sip.callStatus": "active", "sip.phoneNumber": "+15557770001"},
    )
    timings = json.dumps({"answered": 2000, "decided": 11000, "connected": 11300})
    return [
        event(0.0, "room_started"),
        joined,
        decision(0.52, joined.detail["event_id"], "seed-caller", "qualifier"),
        *job(0.53, 1, "qualifier", joined.detail["event_id"]),
        result(0.9, 1, "succeeded"),
        event(
            1.4,
            "participant_joined",
            "AJ_q",
            "AGENT",
            **{"lk.agent_name": "qualifier", "switchboard.state": "joining"},
        ),
        event(
            20.0,
            "participant_joined",
            "AJ_o",
            "AGENT",
            **{"lk.agent_name": "outbound-caller", "switchboard.state": "starting"},
        ),
        event(
            21.0,
            "participant_joined",
            HUMAN,
            "SIP",
            **{
                "sip.callStatus": "ringing",
                "switchboard.role": "human-agent",
                "sip.phoneNumber": "+15558675309",
            },
        ),
        event(
            32.5,
            "participant_left",
            "AJ_o",
            "AGENT",
            **{
                "lk.agent_name": "outbound-caller",
                "switchboard.state": "done",
                "switchboard.transfer": "connected",
                "switchboard.callee": HUMAN,
                "switchboard.timings": timings,
            },
        ),
        event(
            32.6,
            "participant_left",
            "AJ_q",
            "AGENT",
            **{
                "lk.agent_name": "qualifier",
                "switchboard.state": "transferred",
                "switchboard.transfer": "connected",
            },
        ),
        event(40.0, "participant_left", CALLER, "SIP", **{"sip.callStatus": "hangup"}),
        event(40.2, "participant_left", HUMAN, "SIP", **{"sip.callStatus": "hangup"}),
        event(44.5, "room_finished"),
    ]


def test_warm_transfer_has_one_lane_per_participant_in_join_order() -> None:
    trace = build_trace({ROOM: warm_transfer()})
    roles = [(lane.role, lane.title) for lane in trace.lanes]
    assert roles == [
        (LaneRole.SWITCHBOARD, "switchboard"),
        (LaneRole.CALLER, "caller +15557770001"),
        (LaneRole.QUALIFIER, "qualifier"),
        (LaneRole.OUTBOUND_CALLER, "outbound-caller"),
        (LaneRole.HUMAN, "human +15558675309"),
    ]
    assert trace.start == at(0.5) and trace.end == at(44.5) and not trace.live
    assert trace.marks == ()


def test_warm_transfer_bars_carry_durations_rule_and_sip_status() -> None:
    trace = build_trace({ROOM: warm_transfer()})
    lanes = {lane.key: lane for lane in trace.lanes}
    qualifier = {bar.step: bar for bar in lanes["AJ_q"].bars}
    dispatch = qualifier[Step.CREATE_DISPATCH]
    assert (dispatch.rule, dispatch.status) == ("seed-caller", "succeeded")
    assert "kind is SIP" in dispatch.why
    assert qualifier[Step.AGENT_JOINED].duration_ms(T0) == 500
    assert qualifier[Step.AGENT_STATE].status == "transferred"
    outbound = {bar.step: bar for bar in lanes["AJ_o"].bars}
    assert outbound[Step.BRIEF].start == at(23.0) and outbound[Step.BRIEF].end == at(32.0)
    assert outbound[Step.CONNECTED].duration_ms(T0) == 300
    human = [(b.label, b.status, b.duration_ms(T0)) for b in lanes[HUMAN].bars]
    assert human == [("on the phone", "hangup", 19200), ("dialing", "answered", 2000)]
    hold = next(b for b in lanes[CALLER].bars if b.step is Step.HOLD)
    assert (hold.start, hold.end, hold.status) == (at(20.0), at(32.3), "connected")
    decided = next(b for b in lanes[CALLER].bars if b.step is Step.DECISION)
    assert decided.rule == "seed-caller" and decided.duration_ms(T0) == 20
    gone = next(b for b in lanes["switchboard"].bars if b.step is Step.AGENTS_GONE)
    assert (gone.start, gone.end) == (at(32.6), at(40.2))


def test_running_call_has_open_bars_showing_the_live_state() -> None:
    running = warm_transfer()[:8]
    trace = build_trace({ROOM: running}, live={"AJ_o": {"switchboard.state": "briefing"}})
    assert trace.live
    outbound = next(lane for lane in trace.lanes if lane.key == "AJ_o")
    (present,) = outbound.bars
    assert present.end is None and present.status == "briefing"
    assert present.duration_ms(at(25.0)) == 5000
    body = trace.to_json(now=at(25.0))
    assert body["live"] and body["duration_ms"] == 24500
    lane = next(lane for lane in body["lanes"] if lane["key"] == "AJ_o")
    assert lane["bars"][0]["running"] is True


def test_dead_letter_is_marked_at_the_dispatch_with_the_retry_command() -> None:
    joined = event(0.5, "participant_joined", CALLER, "SIP")
    entries = [
        joined,
        decision(0.52, joined.detail["event_id"], "seed-caller", "qualifier"),
        *job(0.53, 7, "qualifier", joined.detail["event_id"]),
        result(0.9, 7, "dead", "the room does not exist"),
        event(9.0, "room_finished"),
    ]
    trace = build_trace({ROOM: entries})
    (mark,) = trace.marks
    assert (mark.lane, mark.step) == ("agent:qualifier", Step.CREATE_DISPATCH)
    assert "the room does not exist" in mark.problem
    assert "switchboard jobs retry 7" in mark.fix
    lane = next(lane for lane in trace.lanes if lane.key == "agent:qualifier")
    assert lane.title == "qualifier (never joined)"


def test_loop_detected_dial_is_marked_at_the_humans_leg_with_the_handoff_fix() -> None:
    failed = {
        "lk.agent_name": "outbound-caller",
        "switchboard.state": "failed",
        "switchboard.result": "loop_detected",
        "switchboard.sip_status": "482 Loop Detected",
        "switchboard.callee": HUMAN,
    }
    entries = [
        event(0.5, "participant_joined", CALLER, "SIP"),
        event(5.0, "participant_joined", "AJ_o", "AGENT", **{"lk.agent_name": "outbound-caller"}),
        event(5.5, "participant_joined", HUMAN, "SIP", **{"sip.callStatus": "dialing"}),
        event(5.6, "participant_left", HUMAN, "SIP", **{"sip.callStatus": "dialing"}),
        event(6.0, "participant_left", "AJ_o", "AGENT", **failed),
    ]
    trace = build_trace({ROOM: entries})
    (mark,) = [m for m in trace.marks if m.lane == HUMAN]
    assert mark.problem == "transfer loop_detected (SIP 482 Loop Detected)"
    assert "dial a number outside that trunk" in mark.fix
    assert mark.step is Step.SIP_LEG
    assert next(lane for lane in trace.lanes if lane.key == HUMAN).role is LaneRole.HUMAN
    # The callee never joined: marked on the outbound-caller itself.
    (alone,) = [m for m in build_trace({ROOM: entries[:2] + entries[4:]}).marks if m.lane == "AJ_o"]
    assert alone.step is Step.AGENT_STATE and alone.fix == mark.fix


def test_declined_transfer_uses_the_fix_the_agent_published() -> None:
    entries = [
        event(0.5, "participant_joined", CALLER, "SIP"),
        event(5.0, "participant_joined", "AJ_o", "AGENT", **{"lk.agent_name": "outbound-caller"}),
        event(
            9.0,
            "participant_left",
            "AJ_o",
            "AGENT",
            **{
                "lk.agent_name": "outbound-caller",
                "switchboard.transfer": "declined",
                "switchboard.error": "the human pressed 2. Fix: offer a callback",
            },
        ),
    ]
    (mark,) = [m for m in build_trace({ROOM: entries}).marks if m.lane == "AJ_o"]
    assert (mark.step, mark.problem, mark.fix) == (
        Step.BRIEF,
        "transfer declined",
        "offer a callback",
    )


def test_caller_left_alone_after_the_agents_is_stranded() -> None:
    entries = [
        event(0.5, "participant_joined", CALLER, "SIP"),
        event(1.0, "participant_joined", "AJ_q", "AGENT", **{"lk.agent_name": "qualifier"}),
        event(
            9.0,
            "participant_left",
            "AJ_q",
            "AGENT",
            **{"lk.agent_name": "qualifier", "switchboard.transfer": "not_configured"},
        ),
    ]
    marks = build_trace({ROOM: entries}).marks
    assert [(m.lane, m.step) for m in marks] == [
        ("AJ_q", Step.AGENT_STATE),
        (CALLER, Step.AGENTS_GONE),
    ]
    assert "stranded" in marks[1].problem and "transfer.targets" in marks[0].fix
    hung_up = [*entries, event(9.5, "participant_left", CALLER, "SIP")]
    assert [m.lane for m in build_trace({ROOM: hung_up}).marks] == ["AJ_q"]


def test_unnamed_agent_is_marked() -> None:
    entries = [event(1.0, "participant_joined", "AJ_x", "AGENT")]
    (mark,) = build_trace({ROOM: entries}).marks
    assert "unnamed agent" in mark.problem and mark.step is Step.AGENT_JOINED


def test_new_room_is_linked_into_the_call() -> None:
    entries = [
        event(1.0, "participant_joined", "AJ_q", "AGENT", **{"lk.agent_name": "qualifier"}),
        event(5.0, "participant_left", "AJ_q", "AGENT", **{"switchboard.new_room": "callback_1"}),
    ]
    assert linked_rooms(entries) == ["callback_1"]
    trace = build_trace({ROOM: entries, "callback_1": []})
    assert trace.rooms == (ROOM, "callback_1")


def test_empty_and_malformed_timelines_give_an_empty_trace() -> None:
    assert build_trace({}).lanes == ()
    odd = TimelineEntry(T0, TimelineKind.EVENT, "?", {"body": {"raw": "not json"}})
    trace = build_trace({ROOM: [odd]})
    assert trace.lanes == () and trace.start is None and trace.to_json()["duration_ms"] == 0
