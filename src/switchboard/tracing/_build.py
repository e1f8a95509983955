"""Rebuild a call's waterfall from the store's timelines alone (no collector needed).

Everything comes from what the service already records: the webhook bodies (a participant's
kind and attributes at join and at leave, so the agents' final ``switchboard.*`` attributes,
their SIP status and timings), the decisions (rule and why), the dispatch jobs and attempts.
Times are when the service received each webhook.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Final

from switchboard.store import TimelineEntry
from switchboard.tracing._marks import agent_marks, stranded_marks
from switchboard.tracing._read import (
    AGENT_KIND,
    SIP_KIND,
    Person,
    Room,
    assign_roles,
    linked_rooms,
    read_room,
)
from switchboard.tracing.gone import agents_gone
from switchboard.tracing.steps import Step
from switchboard.tracing.trace import Bar, CallTrace, Lane, LaneRole, Mark
from switchboard.vocabulary import AttributeKey, LiveKitAttribute

__all__ = ["build_trace", "linked_rooms"]

SWITCHBOARD_LANE: Final = "switchboard"


def build_trace(
    timelines: Mapping[str, Sequence[TimelineEntry]],
    live: Mapping[str, Mapping[str, str]] | None = None,
) -> CallTrace:
    """The call whose rooms' timelines are given, the caller's room first.

    ``live`` maps the identities present now to their current attributes: running bars show
    those states while the call runs.
    """
    rooms = [read_room(name, entries) for name, entries in timelines.items()]
    current = live or {}
    people = [p for room in rooms for p in room.people.values()]
    assign_roles(people, rooms[0].name if rooms else "")
    lanes: dict[str, list[Bar]] = {SWITCHBOARD_LANE: []}
    titles: dict[str, tuple[LaneRole, str]] = {
        SWITCHBOARD_LANE: (LaneRole.SWITCHBOARD, "switchboard")
    }
    marks: list[Mark] = []
    for person in sorted(people, key=lambda p: p.joined_at):
        lanes[person.identity] = []
        titles[person.identity] = (person.role, _title(person))
    for room in rooms:
        _decision_bars(room, lanes)
        _job_bars(room, lanes, titles, marks)
        for person in room.people.values():
            lanes[person.identity].extend(_presence_bars(room, person, current))
        _handoff_bars(room, lanes)
        _room_bars(room, lanes)
        marks.extend(agent_marks(room))
        marks.extend(stranded_marks(room))
    starts = [bar.start for bars in lanes.values() for bar in bars]
    finished = [room.finished_at for room in rooms]
    end = max(f for f in finished if f) if finished and all(finished) else None
    built = tuple(
        Lane(key, *titles[key], tuple(sorted(bars, key=lambda b: (b.start, b.end is None))))
        for key, bars in lanes.items()
        if bars
    )
    return CallTrace(
        room=rooms[0].name if rooms else "",
        rooms=tuple(room.name for room in rooms),
        start=min(starts) if starts else None,
        end=end,
        lanes=built,
        marks=tuple(sorted(marks, key=lambda m: m.at)),
    )


def _title(person: Person) -> str:
    attributes = person.attributes
    if person.kind == AGENT_KIND:
        name = (
            attributes.get(LiveKitAttribute.AGENT_NAME)
            or attributes.get(AttributeKey.AGENT)
            or '"" (unnamed)'
        )
        return name if name.startswith(person.role.value) else f"{person.role.value} {name}"
    who = attributes.get(LiveKitAttribute.SIP_PHONE_NUMBER) or person.name or person.identity
    return f"{person.role.value} {who}"


def _decision_bars(room: Room, lanes: dict[str, list[Bar]]) -> None:
    """Each decision on the lane of the participant whose event it decided on."""
    for decision in room.decisions.values():
        received, event_type, identity = room.events.get(decision.event_id, (decision.at, "", ""))
        agents = ", ".join(decision.agents) or "no agent"
        lane = identity if identity in lanes else SWITCHBOARD_LANE
        joiner = room.people.get(identity)
        if joiner is not None and joiner.kind == AGENT_KIND and not decision.agents:
            continue  # an agent's own join, which dispatches nobody: noise on its lane
        lanes[lane].append(
            Bar(
                Step.DECISION,
                f"decision → {agents}",
                received,
                decision.at,
                room.name,
                status=agents,
                rule=decision.rule or "default",
                why=decision.why,
                detail={"event_id": decision.event_id, "event": event_type},
            )
        )


def _job_bars(
    room: Room,
    lanes: dict[str, list[Bar]],
    titles: dict[str, tuple[LaneRole, str]],
    marks: list[Mark],
) -> None:
    """Queued, claimed and CreateDispatch bars on the dispatched agent's lane."""
    for job in room.jobs.values():
        lane = _agent_lane(room, job.agent)
        if lane not in lanes:
            lanes[lane] = []
            titles[lane] = (LaneRole.AGENT, f"{job.agent or '(unnamed)'} (never joined)")
        decision = room.decisions.get(job.event_id)
        rule = (decision.rule or "default") if decision else None
        why = decision.why if decision else ""
        ids = {"job_id": job.job_id, "event_id": job.event_id}
        first = job.attempts[0]["start"] if job.attempts else None
        lanes[lane].append(
            Bar(
                Step.JOB_QUEUED,
                f"job {job.job_id} queued",
                job.created_at,
                first,
                room.name,
                rule=rule,
                why=why,
                detail=ids,
            )
        )
        for attempt in job.attempts:
            result = attempt.get("result") or ""
            lanes[lane].append(
                Bar(
                    Step.CREATE_DISPATCH,
                    f"dispatch (attempt {attempt['attempt']})",
                    attempt["start"],
                    attempt.get("end"),
                    room.name,
                    status=result,
                    rule=rule,
                    why=why,
                    detail={**ids, "error": attempt.get("error")},
                )
            )
            if result == "dead":
                marks.append(
                    Mark(
                        lane,
                        Step.CREATE_DISPATCH,
                        attempt.get("end") or attempt["start"],
                        f"dispatch of {job.agent} dead-lettered: {attempt.get('error')}",
                        f"fix the cause, then `switchboard jobs retry {job.job_id}`",
                    )
                )
        succeeded = [a["end"] for a in job.attempts if a.get("result") == "succeeded"]
        agent = room.people.get(lane)
        if succeeded and agent is not None and agent.joined_at >= succeeded[-1]:
            lanes[lane].append(
                Bar(
                    Step.AGENT_JOINED,
                    "joining",
                    succeeded[-1],
                    agent.joined_at,
                    room.name,
                    detail=ids,
                )
            )
        elif succeeded and agent is None and room.finished_at is not None:
            marks.append(
                Mark(
                    lane,
                    Step.AGENT_JOINED,
                    succeeded[-1],
                    f"{job.agent} was dispatched but never joined",
                    f"run a worker registered as {job.agent!r} (`switchboard doctor` checks it)",
                )
            )


def _agent_lane(room: Room, agent: str) -> str:
    for person in room.people.values():
        if (
            person.kind == AGENT_KIND
            and person.attributes.get(LiveKitAttribute.AGENT_NAME, "") == agent
        ):
            return person.identity
    return f"agent:{agent}"


def _presence_bars(room: Room, person: Person, live: Mapping[str, Mapping[str, str]]) -> list[Bar]:
    now = live.get(person.identity, {}) if person.left_at is None else {}
    attributes = {**person.attributes, **now}
    if person.kind == AGENT_KIND:
        state = attributes.get(AttributeKey.STATE) or attributes.get(
            LiveKitAttribute.AGENT_STATE, ""
        )
        detail = {k: v for k, v in attributes.items() if k.startswith("switchboard.")}
        return [
            Bar(
                Step.AGENT_STATE,
                "in the room",
                person.joined_at,
                person.left_at,
                room.name,
                status=state,
                detail=detail,
            )
        ]
    if person.kind == SIP_KIND:
        status = attributes.get(LiveKitAttribute.SIP_CALL_STATUS, "")
        number = {"number": attributes.get(LiveKitAttribute.SIP_PHONE_NUMBER, "")}
        return [
            Bar(
                Step.SIP_LEG,
                "on the phone",
                person.joined_at,
                person.left_at,
                room.name,
                status=status,
                detail=number,
            )
        ]
    return [Bar(Step.PRESENT, "in the room", person.joined_at, person.left_at, room.name)]


def _handoff_bars(room: Room, lanes: dict[str, list[Bar]]) -> None:
    """The warm transfer from the outbound-caller's timings (ms after dialing started)."""
    for agent in room.people.values():
        if agent.role is not LaneRole.OUTBOUND_CALLER:
            continue
        human = room.people.get(agent.attributes.get(AttributeKey.CALLEE, ""))
        dialing = human.joined_at if human is not None else agent.joined_at
        timings = _timings(agent.attributes.get(AttributeKey.TIMINGS, ""))
        answered, decided, connected = (
            dialing + timedelta(milliseconds=timings[k]) if k in timings else None
            for k in ("answered", "decided", "connected")
        )
        if human is not None and answered is not None:
            lanes[human.identity].append(
                Bar(Step.SIP_LEG, "dialing", dialing, answered, room.name, status="answered")
            )
        if answered is not None:
            lanes[agent.identity].append(
                Bar(
                    Step.BRIEF,
                    "briefing the human",
                    answered,
                    decided or agent.left_at,
                    room.name,
                    status=agent.attributes.get(AttributeKey.TRANSFER, ""),
                )
            )
        if decided is not None:
            lanes[agent.identity].append(
                Bar(
                    Step.CONNECTED,
                    "connecting",
                    decided,
                    connected or decided,
                    room.name,
                    status="connected"
                    if connected
                    else agent.attributes.get(AttributeKey.TRANSFER, ""),
                )
            )
        held = connected or agent.left_at
        for caller in room.people.values():
            if caller.role is LaneRole.CALLER:
                lanes[caller.identity].append(
                    Bar(
                        Step.HOLD,
                        "on hold",
                        agent.joined_at,
                        held,
                        room.name,
                        status="connected" if connected else "",
                    )
                )


def _room_bars(room: Room, lanes: dict[str, list[Bar]]) -> None:
    gone = agents_gone(room)
    if gone is not None:
        stayed = gone.stayed
        last = [p.left_at for p in stayed]
        end = None if None in last else max(t for t in last if t)
        names = ", ".join(p.role.value for p in stayed)
        names += " stays" if len(stayed) == 1 else " stay"
        lanes[SWITCHBOARD_LANE].append(
            Bar(Step.AGENTS_GONE, f"agents gone; {names}", gone.last_left, end, room.name)
        )
    if room.finished_at is not None:
        lanes[SWITCHBOARD_LANE].append(
            Bar(Step.ROOM_CLOSED, "room closed", room.finished_at, room.finished_at, room.name)
        )


def _timings(raw: str) -> dict[str, float]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}
