"""What a room's timeline says about its call: who joined and left with which attributes, the
decisions, the dispatch jobs and their attempts (the raw material of the waterfall)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from switchboard.rules import RoomEvent
from switchboard.store import TimelineEntry, TimelineKind
from switchboard.tracing.trace import LaneRole
from switchboard.vocabulary import AttributeKey, LiveKitAttribute, ParticipantKind
from switchboard.vocabulary import Role as PersonRole

AGENT_KIND: Final = ParticipantKind.AGENT.webhook_name
SIP_KIND: Final = ParticipantKind.SIP.webhook_name
HUMAN_ROLES: Final = frozenset({PersonRole.REPRESENTATIVE, PersonRole.HUMAN_AGENT})


@dataclass
class Person:
    identity: str
    room: str
    kind: str
    name: str
    joined_at: datetime
    join_event: str
    attributes: dict[str, str]
    left_at: datetime | None = None
    role: LaneRole = LaneRole.PERSON


@dataclass
class Job:
    job_id: int
    room: str
    agent: str
    event_id: str
    created_at: datetime
    attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Decision:
    event_id: str
    room: str
    at: datetime
    rule: str | None
    agents: list[str]
    why: str


@dataclass
class Room:
    name: str
    events: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    """event id → (received, type, participant identity)."""
    people: dict[str, Person] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


def linked_rooms(entries: Sequence[TimelineEntry]) -> list[str]:
    """The rooms this room's call led to (``switchboard.new_room`` of its agents)."""
    found: list[str] = []
    for entry in entries:
        if entry.kind is TimelineKind.EVENT:
            event = RoomEvent.from_webhook_dict(entry.detail.get("body", {}))
            room = (
                event.participant.attributes.get(AttributeKey.NEW_ROOM, "")
                if event.participant
                else ""
            )
            if room and room not in found:
                found.append(room)
    return found


def read_room(name: str, entries: Sequence[TimelineEntry]) -> Room:
    """One room's people, decisions and jobs from its timeline."""
    room = Room(name)
    for entry in entries:
        detail = entry.detail
        match entry.kind:
            case TimelineKind.EVENT:
                _read_event(room, entry.at, detail)
            case TimelineKind.DECISION:
                explanation = detail.get("explanation") or {}
                room.decisions[str(detail.get("event_id", ""))] = Decision(
                    event_id=str(detail.get("event_id", "")),
                    room=name,
                    at=entry.at,
                    rule=detail.get("rule_id"),
                    agents=[str(d.get("agent_name", "")) for d in detail.get("dispatches", [])],
                    why=str(explanation.get("text", "")) if isinstance(explanation, dict) else "",
                )
            case TimelineKind.DISPATCH_ENQUEUED:
                job_id = int(detail["job_id"])
                room.jobs[job_id] = Job(
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
                            attempt |= {
                                "end": entry.at,
                                "result": detail.get("result"),
                                "error": detail.get("error"),
                            }
            case _:
                pass
    return room


def _read_event(room: Room, at: datetime, detail: Mapping[str, Any]) -> None:
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
        room.people[identity] = Person(
            identity, room.name, who.kind, who.name, at, event.id, dict(who.attributes)
        )
    elif event.event in ("participant_left", "participant_connection_aborted"):
        person = room.people.get(identity)
        if person is None:  # joined before the service listened: start at its join time
            joined = datetime.fromtimestamp(who.joined_at, at.tzinfo) if who.joined_at else at
            person = Person(identity, room.name, who.kind, who.name, joined, "", {})
            room.people[identity] = person
        person.left_at = at
        person.attributes |= dict(who.attributes)


def assign_roles(people: Sequence[Person], first_room: str) -> None:
    """Caller (the first person in the first room), human (the callee or a human role), agents
    by name."""
    callees = {p.attributes.get(AttributeKey.CALLEE, "") for p in people} - {""}
    has_caller = False
    for person in sorted(people, key=lambda p: p.joined_at):
        attributes = person.attributes
        name = attributes.get(LiveKitAttribute.AGENT_NAME) or attributes.get(AttributeKey.AGENT, "")
        if person.kind == AGENT_KIND:
            if name.startswith(LaneRole.OUTBOUND_CALLER.value) or AttributeKey.CALLEE in attributes:
                person.role = LaneRole.OUTBOUND_CALLER
            elif name.startswith(LaneRole.QUALIFIER.value) or AttributeKey.QUESTION in attributes:
                person.role = LaneRole.QUALIFIER
            else:
                person.role = LaneRole.AGENT
        elif attributes.get(AttributeKey.ROLE) in HUMAN_ROLES or person.identity in callees:
            person.role = LaneRole.HUMAN
        elif not has_caller and person.room == first_room:
            person.role, has_caller = LaneRole.CALLER, True
