"""Field paths: how conditions, templates and rollout keys name a value of the event.

``room.name``, ``room.metadata.customer.tier`` (a dotted path into the metadata JSON),
``participant.attributes[sip.phoneNumber]`` (or ``participant.attributes.sip.phoneNumber``, or just
``sip.phoneNumber``) and so on. Parsing happens once, at load; the result carries a getter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

from switchboard.rules.event import RoomEvent


class _Missing:
    """The value of a field the event does not have (distinct from JSON ``null``)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

ValueKind = Literal["text", "json", "kind", "event"]
"""``text``: always a string; ``json``: any JSON value; ``kind``/``event``: a known enum name."""

Getter = Callable[[RoomEvent], object]

KNOWN_FIELDS: Final = (
    "event",
    "event.id",
    "room.name",
    "room.sid",
    "room.metadata",
    "room.metadata.<path>",
    "participant.identity",
    "participant.name",
    "participant.sid",
    "participant.kind",
    "participant.metadata",
    "participant.metadata.<path>",
    "participant.attributes[<key>]",
    "sip.<attribute>",
)

_EXAMPLE_LEAF: Final = {
    "room": "name",
    "participant": "identity",
    "participant.attributes": "sip.phoneNumber",
    "sip": "phoneNumber",
}
_BRACKET = re.compile(r"participant\.attributes\[([^\[\]]+)\]")
_SEGMENT = re.compile(r"[^.\[\]{}\s]+")


class FieldPathError(ValueError):
    """A field path names nothing the event has."""

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})")


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed field path: its canonical spelling, value kind and a getter."""

    text: str
    kind: ValueKind
    get: Getter
    attribute: str | None = None
    """The participant attribute key, when the path names one (native compilation uses it)."""


@lru_cache(maxsize=4096)
def parse_field_path(text: str) -> FieldPath:
    """Parse a field path, raising ``FieldPathError`` with a did-you-mean hint."""
    path = text.strip()
    if path in ("event", "event.type"):
        return FieldPath("event", "event", _event_type)
    if path == "event.id":
        return FieldPath(path, "text", _event_id)
    room = _ROOM_TEXT.get(path)
    if room is not None:
        return FieldPath(path, "text", room)
    participant = _PARTICIPANT_TEXT.get(path)
    if participant is not None:
        return FieldPath(path, "kind" if path == "participant.kind" else "text", participant)
    for prefix, source in (("room.metadata.", _room_metadata), ("participant.metadata.", _p_meta)):
        if path.startswith(prefix):
            return FieldPath(path, "json", _json_getter(source, _segments(path, prefix)))
    key = _attribute_key(path)
    if key is not None:
        return FieldPath(f"participant.attributes[{key}]", "text", _attribute(key), key)
    raise FieldPathError(f"unknown field '{text}'", _hint(path))


def _segments(path: str, prefix: str) -> tuple[str, ...]:
    segments = tuple(path[len(prefix) :].split("."))
    if not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise FieldPathError(
            f"bad metadata path '{path}'",
            f"write {prefix}<key>[.<key>...], e.g. {prefix}customer.tier",
        )
    return segments


def _attribute_key(path: str) -> str | None:
    match = _BRACKET.fullmatch(path)
    if match:
        return match.group(1).strip()
    if path.startswith("participant.attributes.") and len(path) > len("participant.attributes."):
        return path[len("participant.attributes.") :]
    if path.startswith("sip.") and len(path) > len("sip."):
        return path
    return None


def _hint(path: str) -> str:
    if path in ("room", "participant", "participant.attributes", "sip"):
        return f"write the whole path as one key, e.g. {path}.{_EXAMPLE_LEAF[path]}: value"
    close = difflib.get_close_matches(path, [f for f in KNOWN_FIELDS if "<" not in f], n=1)
    known = ", ".join(KNOWN_FIELDS)
    return f"did you mean '{close[0]}'?" if close else f"fields are {known}"


def _event_type(event: RoomEvent) -> object:
    return event.event


def _event_id(event: RoomEvent) -> object:
    return event.id


# One small function per field: attribute access is several times faster than getattr(name).
_ROOM_TEXT: Final[dict[str, Getter]] = {
    "room.name": lambda e: MISSING if e.room is None else e.room.name,
    "room.sid": lambda e: MISSING if e.room is None else e.room.sid,
    "room.metadata": lambda e: MISSING if e.room is None else e.room.metadata,
}
_PARTICIPANT_TEXT: Final[dict[str, Getter]] = {
    "participant.identity": lambda e: MISSING if e.participant is None else e.participant.identity,
    "participant.name": lambda e: MISSING if e.participant is None else e.participant.name,
    "participant.sid": lambda e: MISSING if e.participant is None else e.participant.sid,
    "participant.kind": lambda e: MISSING if e.participant is None else e.participant.kind,
    "participant.metadata": lambda e: MISSING if e.participant is None else e.participant.metadata,
}


def _room_metadata(event: RoomEvent) -> Any:
    room = event.room
    return MISSING if room is None else room.metadata_object


def _p_meta(event: RoomEvent) -> Any:
    participant = event.participant
    return MISSING if participant is None else participant.metadata_object


def _json_getter(source: Callable[[RoomEvent], Any], segments: tuple[str, ...]) -> Getter:
    if len(segments) == 1:
        (only,) = segments

        def get_one(event: RoomEvent) -> object:
            value = source(event)
            return value.get(only, MISSING) if type(value) is dict else MISSING

        return get_one

    def get(event: RoomEvent) -> object:
        value = source(event)
        for segment in segments:
            if type(value) is dict:
                value = value.get(segment, MISSING)
            elif type(value) is list and segment.isdigit() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                return MISSING
        return value

    return get


def _attribute(key: str) -> Getter:
    def get(event: RoomEvent) -> object:
        participant = event.participant
        return MISSING if participant is None else participant.attributes.get(key, MISSING)

    return get
