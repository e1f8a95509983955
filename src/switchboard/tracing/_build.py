"""Rebuild a call's waterfall from the store's timelines alone (no collector needed).

Everything comes from what the service already records: the webhook bodies (a participant's
kind and attributes at join and at leave, so the agents' final ``switchboard.*`` attributes,
their SIP status and timings), the decisions (rule and why), the dispatch jobs and attempts.
Times are when the service received each webhook.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from switchboard.rules import RoomEvent
from switchboard.store import TimelineEntry, TimelineKind
from switchboard.tracing.steps import Step
from switchboard.tracing.trace import Bar, CallTrace, Lane, Mark, Role

# The keys of switchboard.agents.attributes, which loads livekit.rtc; a unit test keeps them equal.
AGENT_NAME: Final = "lk.agent_name"
AGENT: Final = "switchboard.agent"
STATE: Final = "switchboard.state"
QUESTION: Final = "switchboard.question"
RESULT: Final = "switchboard.result"
TRANSFER: Final = "switchboard.transfer"
SIP_STATUS: Final = "switchboard.sip_status"
ERROR: Final = "switchboard.error"
CALLEE: Final = "switchboard.callee"
TIMINGS: Final = "switchboard.timings"
NEW_ROOM: Final = "switchboard.new_room"
ROLE: Final = "switchboard.role"
SIP_CALL_STATUS: Final = "sip.callStatus"
PHONE_NUMBER: Final = "sip.phoneNumber"

SWITCHBOARD_LANE: Final = "switchboard"
HUMAN_ROLES: Final = frozenset({"human-agent", "representative"})
TRANSFER_FAILURES: Final = frozenset(
    {"not_configured", "not_dispatched", "declined", "no_decision", "caller_left", "busy",
     "no_answer", "timeout", "loop_detected", "forbidden", "not_found", "unavailable", "failed"}
)  # fmt: skip
STRANDED_GRACE: Final = timedelta(seconds=2)
"""A caller who hangs up within this long of the last agent leaving was not stranded."""
STRANDED_FIX: Final = (
    "give the qualifier a transfer target that answers (transfer.targets in the agents config) "
    "or a fallback that ends the call (docs/agents.md); `switchboard doctor` checks the config"
)


@dataclass
class _Person:
    identity: str
    room: str
    kind: str
    name: str
    joined_at: datetime
    join_event: str
    attributes: dict[str, str]
    left_at: datetime | None = None
    role: Role = Role.PERSON


@dataclass
class _Job:
    job_id: int
    room: str
    agent: str
    event_id: str
    created_at: datetime
    attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Decision:
    event_id: str
    room: str
    at: datetime
    rule: str | None
    agents: list[str]
    why: str


@dataclass
class _Room:
    name: str
    events: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    """event id → (received, type, participant identity)."""
    people: dict[str, _Person] = field(default_factory=dict)
    decisions: dict[str, _Decision] = field(default_factory=dict)
    jobs: dict[int, _Job] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


def linked_rooms(entries: Sequence[TimelineEntry]) -> list[str]:
    """The rooms this room's call led to (``switchboard.new_room`` of its agents)."""
    found: list[str] = []
    for entry in entries:
        if entry.kind is TimelineKind.EVENT:
            event = RoomEvent.from_webhook_dict(entry.detail.get("body", {}))
            room = event.participant.attributes.get(NEW_ROOM, "") if event.participant else ""
            if room and room not in found:
                found.append(room)
    return found


def build_trace(
    timelines: Mapping[str, Sequence[TimelineEntry]],
    live: Mapping[str, Mapping[str, str]] | None = None,
) -> CallTrace:
    """The call whose rooms' timelines are given, the caller's room first.

    ``live`` maps the identities present now to their current attributes: running bars show
    those states while the call runs.
    """
    rooms = [_read(name, entries) for name, entries in timelines.items()]
    current = live or {}
    people = [p for room in rooms for p in room.people.values()]
    _assign_roles(people, rooms[0].name if rooms else "")
    lanes: dict[str, list[Bar]] = {SWITCHBOARD_LANE: []}
    titles: dict[str, tuple[Role, str]] = {SWITCHBOARD_LANE: (Role.SWITCHBOARD, "switchboard")}
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
        marks.extend(_agent_marks(room))
        marks.extend(_stranded_marks(room))
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


def _read(name: str, entries: Sequence[TimelineEntry]) -> _Room:
    room = _Room(name)
    for entry in entries:
        detail = entry.detail
        match entry.kind:
            case TimelineKind.EVENT:
                _read_event(room, entry.at, detail)
            case TimelineKind.DECISION:
                explanation = detail.get("explanation") or {}
                room.decisions[str(detail.get("event_id", ""))] = _Decision(
                    event_id=str(detail.get("event_id", "")),
                    room=name,
                    at=entry.at,
                    rule=detail.get("rule_id"),
                    agents=[str(d.get("agent_name", "")) for d in detail.get("dispatches", [])],
                    why=str(explanation.get("text", "")) if isinstance(explanation, dict) else "",
                )
            case TimelineKind.DISPATCH_ENQUEUED:
                job_id = int(detail["job_id"])
                room.jobs[job_id] = _Job(
                    job_id, name, str(detail["agent_name"]), str(detail["event_id"]), entry.at
                )
            case TimelineKind.DISPATCH_ATTEMPT:
                job = room.jobs.get(int(detail["job_id"]))
                if job is not None:
                    job.attempts.append({"attempt": detail["attempt"], "start": entry.at})
            case TimelineKind.DISPATCH_RESULT:
                job = room.jobs.get(int(detail["job_id"]))
                if job is not None:
                    for attempt in job.attempts:
                        if attempt["attempt"] == detail["attempt"]:
                            attempt |= {"end": entry.at, "result": detail.get("result"),
                                        "error": detail.get("error")}  # fmt: skip
            case _:
                pass
    return room


def _read_event(room: _Room, at: datetime, detail: Mapping[str, Any]) -> None:
    body = detail.get("body")
    event = RoomEvent.from_webhook_dict(body if isinstance(body, dict) else {})
    who = event.participant
    identity = who.identity if who else ""
    room.events[event.id or str(detail.get("event_id", ""))] = (at, event.event, identity)
    if event.event == "room_started":
        room.started_at = room.started_at or at
    elif event.event == "room_finished":
        room.finished_at = at
    elif who is None or not identity:
        return
    elif event.event == "participant_joined" and identity not in room.people:
        room.people[identity] = _Person(
            identity, room.name, who.kind, who.name, at, event.id, dict(who.attributes)
        )
    elif event.event in ("participant_left", "participant_connection_aborted"):
        person = room.people.get(identity)
        if person is None:  # joined before the service listened: start at its join time
            joined = datetime.fromtimestamp(who.joined_at, at.tzinfo) if who.joined_at else at
            person = _Person(identity, room.name, who.kind, who.name, joined, "", {})
            room.people[identity] = person
        person.left_at = at
        person.attributes |= dict(who.attributes)


def _assign_roles(people: Sequence[_Person], first_room: str) -> None:
    callees = {p.attributes.get(CALLEE, "") for p in people} - {""}
    has_caller = False
    for person in sorted(people, key=lambda p: p.joined_at):
        attributes = person.attributes
        name = attributes.get(AGENT_NAME) or attributes.get(AGENT, "")
        if person.kind == "AGENT":
            if name.startswith(Role.OUTBOUND_CALLER.value) or CALLEE in attributes:
                person.role = Role.OUTBOUND_CALLER
            elif name.startswith(Role.QUALIFIER.value) or QUESTION in attributes:
                person.role = Role.QUALIFIER
            else:
                person.role = Role.AGENT
        elif attributes.get(ROLE) in HUMAN_ROLES or person.identity in callees:
            person.role = Role.HUMAN
        elif not has_caller and person.room == first_room:
            person.role, has_caller = Role.CALLER, True


def _title(person: _Person) -> str:
    attributes = person.attributes
    if person.kind == "AGENT":
        name = attributes.get(AGENT_NAME) or attributes.get(AGENT) or '"" (unnamed)'
        return name if name.startswith(person.role.value) else f"{person.role.value} {name}"
    who = attributes.get(PHONE_NUMBER) or person.name or person.identity
    return f"{person.role.value} {who}"


def _decision_bars(room: _Room, lanes: dict[str, list[Bar]]) -> None:
    """Each decision on the lane of the participant whose event it decided on."""
    for decision in room.decisions.values():
        received, event_type, identity = room.events.get(decision.event_id, (decision.at, "", ""))
        agents = ", ".join(decision.agents) or "no agent"
        lane = identity if identity in lanes else SWITCHBOARD_LANE
        lanes[lane].append(
            Bar(Step.DECISION, f"decision → {agents}", received, decision.at,
                room.name, status=agents, rule=decision.rule or "default", why=decision.why,
                detail={"event_id": decision.event_id, "event": event_type})
        )  # fmt: skip


def _job_bars(
    room: _Room,
    lanes: dict[str, list[Bar]],
    titles: dict[str, tuple[Role, str]],
    marks: list[Mark],
) -> None:
    """Queued, claimed and CreateDispatch bars on the dispatched agent's lane."""
    for job in room.jobs.values():
        lane = _agent_lane(room, job.agent)
        if lane not in lanes:
            lanes[lane] = []
            titles[lane] = (Role.AGENT, f"{job.agent or '(unnamed)'} (never joined)")
        decision = room.decisions.get(job.event_id)
        rule = (decision.rule or "default") if decision else None
        why = decision.why if decision else ""
        ids = {"job_id": job.job_id, "event_id": job.event_id}
        first = job.attempts[0]["start"] if job.attempts else None
        lanes[lane].append(
            Bar(Step.JOB_QUEUED, f"job {job.job_id} queued", job.created_at, first, room.name,
                rule=rule, why=why, detail=ids)
        )  # fmt: skip
        for attempt in job.attempts:
            result = attempt.get("result") or ""
            lanes[lane].append(
                Bar(Step.CREATE_DISPATCH, f"dispatch {job.agent} (attempt {attempt['attempt']})",
                    attempt["start"], attempt.get("end"), room.name, status=result, rule=rule,
                    why=why, detail={**ids, "error": attempt.get("error")})
            )  # fmt: skip
            if result == "dead":
                marks.append(
                    Mark(lane, Step.CREATE_DISPATCH, attempt.get("end") or attempt["start"],
                         f"dispatch of {job.agent} dead-lettered: {attempt.get('error')}",
                         f"fix the cause, then `switchboard jobs retry {job.job_id}`")
                )  # fmt: skip
        succeeded = [a["end"] for a in job.attempts if a.get("result") == "succeeded"]
        agent = room.people.get(lane)
        if succeeded and agent is not None and agent.joined_at >= succeeded[-1]:
            lanes[lane].append(
                Bar(Step.AGENT_JOINED, f"{job.agent} joining", succeeded[-1], agent.joined_at,
                    room.name, detail=ids)
            )  # fmt: skip
        elif succeeded and agent is None and room.finished_at is not None:
            marks.append(
                Mark(lane, Step.AGENT_JOINED, succeeded[-1],
                     f"{job.agent} was dispatched but never joined",
                     f"run a worker registered as {job.agent!r} (`switchboard doctor` checks it)")
            )  # fmt: skip


def _agent_lane(room: _Room, agent: str) -> str:
    for person in room.people.values():
        if person.kind == "AGENT" and person.attributes.get(AGENT_NAME, "") == agent:
            return person.identity
    return f"agent:{agent}"


def _presence_bars(
    room: _Room, person: _Person, live: Mapping[str, Mapping[str, str]]
) -> list[Bar]:
    now = live.get(person.identity, {}) if person.left_at is None else {}
    attributes = {**person.attributes, **now}
    if person.kind == "AGENT":
        state = attributes.get(STATE) or attributes.get("lk.agent.state", "")
        detail = {k: v for k, v in attributes.items() if k.startswith("switchboard.")}
        return [Bar(Step.AGENT_STATE, "in the room", person.joined_at, person.left_at, room.name,
                    status=state, detail=detail)]  # fmt: skip
    if person.kind == "SIP":
        status = attributes.get(SIP_CALL_STATUS, "")
        number = {"number": attributes.get(PHONE_NUMBER, "")}
        return [Bar(Step.SIP_LEG, "on the phone", person.joined_at, person.left_at, room.name,
                    status=status, detail=number)]  # fmt: skip
    return [Bar(Step.PRESENT, "in the room", person.joined_at, person.left_at, room.name)]


def _handoff_bars(room: _Room, lanes: dict[str, list[Bar]]) -> None:
    """The warm transfer from the outbound-caller's timings (ms after dialing started)."""
    for agent in room.people.values():
        if agent.role is not Role.OUTBOUND_CALLER:
            continue
        human = room.people.get(agent.attributes.get(CALLEE, ""))
        dialing = human.joined_at if human is not None else agent.joined_at
        timings = _timings(agent.attributes.get(TIMINGS, ""))
        answered, decided, connected = (
            dialing + timedelta(milliseconds=timings[k]) if k in timings else None
            for k in ("answered", "decided", "connected")
        )
        if human is not None and answered is not None:
            lanes[human.identity].append(
                Bar(Step.SIP_LEG, "ringing", dialing, answered, room.name, status="answered")
            )
        if answered is not None:
            lanes[agent.identity].append(
                Bar(Step.BRIEF, "briefing the human", answered, decided or agent.left_at,
                    room.name, status=agent.attributes.get(TRANSFER, ""))
            )  # fmt: skip
        if decided is not None:
            lanes[agent.identity].append(
                Bar(Step.CONNECTED, "connecting", decided, connected or decided, room.name,
                    status="connected" if connected else agent.attributes.get(TRANSFER, ""))
            )  # fmt: skip
        held = connected or agent.left_at
        for caller in room.people.values():
            if caller.role is Role.CALLER:
                lanes[caller.identity].append(
                    Bar(Step.HOLD, "on hold", agent.joined_at, held, room.name,
                        status="connected" if connected else "")
                )  # fmt: skip


def _room_bars(room: _Room, lanes: dict[str, list[Bar]]) -> None:
    agents = [p for p in room.people.values() if p.kind == "AGENT"]
    if agents and all(a.left_at for a in agents):
        gone = max(a.left_at for a in agents if a.left_at)
        people = [p for p in room.people.values() if p.kind != "AGENT"]
        stayed = [p for p in people if p.left_at is None or p.left_at > gone]
        if stayed:
            last = [p.left_at for p in stayed]
            end = None if None in last else max(t for t in last if t)
            names = ", ".join(p.role.value for p in stayed)
            lanes[SWITCHBOARD_LANE].append(
                Bar(Step.AGENTS_GONE, f"agents gone, {names} stay", gone, end, room.name)
            )
    if room.finished_at is not None:
        lanes[SWITCHBOARD_LANE].append(
            Bar(Step.ROOM_CLOSED, f"room {room.name} closed", room.finished_at,
                room.finished_at, room.name)
        )  # fmt: skip


def _agent_marks(room: _Room) -> list[Mark]:
    marks = []
    for agent in room.people.values():
        if agent.kind != "AGENT":
            continue
        attributes = agent.attributes
        at = agent.left_at or agent.joined_at
        if not attributes.get(AGENT_NAME):
            marks.append(
                Mark(agent.identity, Step.AGENT_JOINED, agent.joined_at,
                     "an unnamed agent joined (the server's automatic dispatch)",
                     "name every agent (agent_name=...) and dispatch it explicitly; "
                     "`switchboard doctor` finds the cause")
            )  # fmt: skip
        outcome = attributes.get(TRANSFER, "")
        result = attributes.get(RESULT, "")
        if agent.role is Role.OUTBOUND_CALLER and (
            attributes.get(STATE) == "failed" or outcome in TRANSFER_FAILURES
        ):
            status = attributes.get(SIP_STATUS, "")
            what = outcome if outcome in TRANSFER_FAILURES else result or "failed"
            problem = f"transfer {what}" + (f" (SIP {status})" if status else "")
            step = Step.BRIEF if what in ("declined", "no_decision") else Step.SIP_LEG
            marks.append(Mark(agent.identity, step, at, problem, _fix(attributes, what)))
        elif agent.role is Role.QUALIFIER and outcome in ("not_configured", "not_dispatched"):
            marks.append(
                Mark(agent.identity, Step.AGENT_STATE, at, f"transfer {outcome}",
                     _fix(attributes, outcome))
            )  # fmt: skip
    return marks


def _stranded_marks(room: _Room) -> list[Mark]:
    """A caller still in the room after the last agent left, with no human to talk to."""
    agents = [p for p in room.people.values() if p.kind == "AGENT"]
    if not agents or not all(a.left_at for a in agents):
        return []
    gone = max(a.left_at for a in agents if a.left_at)
    humans = [
        p for p in room.people.values()
        if p.role is Role.HUMAN and p.joined_at <= gone and (p.left_at is None or p.left_at > gone)
    ]  # fmt: skip
    marks = []
    for caller in room.people.values():
        if caller.role is not Role.CALLER or humans or caller.joined_at > gone:
            continue
        if caller.left_at is None or caller.left_at > gone + STRANDED_GRACE:
            qualifier = next((a for a in agents if a.role is Role.QUALIFIER), None)
            reason = _fix(qualifier.attributes, "") if qualifier else ""
            marks.append(
                Mark(caller.identity, Step.AGENTS_GONE, gone,
                     "stranded caller: every agent left and no human is in the room",
                     reason or STRANDED_FIX)
            )  # fmt: skip
    return marks


def _fix(attributes: Mapping[str, str], outcome: str) -> str:
    """The fix an agent published in ``switchboard.error``, else the dial outcome's own fix."""
    error = attributes.get(ERROR, "")
    if "Fix:" in error:
        return error.split("Fix:", 1)[1].strip()
    if error:
        return error
    if not outcome:
        return ""
    # Loaded only for a failed dial: the hand-off package loads livekit.rtc.
    from switchboard.handoff.errors import DialError

    for cls in DialError.__subclasses__():
        if cls.outcome == outcome:
            return cls.fix
    if outcome == "not_configured":
        return "add a transfer target to the qualifier's config (transfer.targets)"
    if outcome == "not_dispatched":
        return "run an outbound-caller worker; `switchboard doctor` checks the agents"
    return DialError.fix


def _timings(raw: str) -> dict[str, float]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}
