"""The event a rule looks at: a LiveKit webhook exactly as livekit-server sends it.

The server marshals ``livekit.WebhookEvent`` with Go protojson defaults: lowerCamelCase keys,
int64 values as JSON strings, zero values omitted (a STANDARD participant has no ``kind`` key)
and enums as their names (``"kind": "SIP"``). snake_case keys are accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from switchboard.rules.errors import EventError
from switchboard.vocabulary import ParticipantKind

EVENT_TYPES: Final = frozenset(
    {
        "room_started",
        "room_finished",
        "participant_joined",
        "participant_left",
        "participant_connection_aborted",
        "track_published",
        "track_unpublished",
        "egress_started",
        "egress_updated",
        "egress_ended",
        "ingress_started",
        "ingress_ended",
    }
)
"""Every event name livekit-server emits (there is no ``room_created``)."""

DISPATCH_EVENT_TYPES: Final = frozenset({"room_started", "participant_joined"})
"""The events on which Switchboard dispatches agents; the service skips the others."""

PARTICIPANT_KINDS: Final = tuple(kind.webhook_name for kind in ParticipantKind)
"""The participant kinds as webhooks spell them (``STANDARD``, ``SIP``...)."""
_MAX_REPAIRS: Final = 64


def parse_metadata(raw: str) -> dict[str, Any]:
    """Read a metadata string as a JSON object; anything else (invalid JSON, a list) is ``{}``."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


class _WebhookModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class RoomInfo(_WebhookModel):
    """The ``room`` of a webhook (``livekit.Room``); ``metadata`` is the raw string."""

    sid: str = ""
    name: str = ""
    metadata: str = ""
    empty_timeout: int = 0
    departure_timeout: int = 0
    max_participants: int = 0
    creation_time: int = 0
    num_participants: int = 0
    num_publishers: int = 0
    _metadata_object: dict[str, Any] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._metadata_object = parse_metadata(self.metadata)

    @property
    def metadata_object(self) -> dict[str, Any]:
        """The metadata parsed as a JSON object (``{}`` when it is not one)."""
        return self._metadata_object


class ParticipantInfo(_WebhookModel):
    """The ``participant`` of a webhook (``livekit.ParticipantInfo``)."""

    sid: str = ""
    identity: str = ""
    name: str = ""
    kind: str = ParticipantKind.STANDARD.webhook_name
    attributes: dict[str, str] = {}
    metadata: str = ""
    joined_at: int = 0
    region: str = ""
    _metadata_object: dict[str, Any] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._metadata_object = parse_metadata(self.metadata)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_name(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            kind = ParticipantKind.from_number(value)
            return kind.webhook_name if kind is not None else str(value)
        return value.upper() if isinstance(value, str) else value

    @property
    def metadata_object(self) -> dict[str, Any]:
        """The metadata parsed as a JSON object (``{}`` when it is not one)."""
        return self._metadata_object


class RoomEvent(_WebhookModel):
    """A webhook event; unknown event types parse fine (``is_dispatch_event`` is then False)."""

    event: str = ""
    id: str = ""
    created_at: int = 0
    room: RoomInfo | None = None
    participant: ParticipantInfo | None = None

    @classmethod
    def from_webhook_dict(cls, payload: Mapping[str, Any]) -> RoomEvent:
        """Parse a decoded webhook body, dropping (never failing on) fields of the wrong type.

        Raises ``EventError`` only when ``payload`` is not a mapping at all.
        """
        if not isinstance(payload, Mapping):
            raise EventError(
                f"a webhook event must be a JSON object, got {type(payload).__name__} "
                "(hint: pass the decoded request body, e.g. json.loads(body))"
            )
        try:
            return cls.model_validate(payload)
        except (ValidationError, RecursionError):
            pass  # repair a copy below: the caller's dict is never modified
        data = _plain_copy(payload)
        for _ in range(_MAX_REPAIRS):
            try:
                return cls.model_validate(data)
            except (ValidationError, RecursionError) as exc:
                locs = [e["loc"] for e in exc.errors()] if isinstance(exc, ValidationError) else []
                if not any([_drop(data, loc) for loc in locs]):
                    break
        kind = data.get("event")
        return cls(event=kind if isinstance(kind, str) else "")

    @classmethod
    def from_webhook_json(cls, body: str | bytes) -> RoomEvent:
        """Parse a raw webhook body (the JSON text livekit-server posts)."""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise EventError(
                f"the webhook body is not valid JSON: {exc} "
                "(hint: pass the request body exactly as received)"
            ) from exc
        return cls.from_webhook_dict(payload)

    @property
    def is_dispatch_event(self) -> bool:
        """True for ``room_started`` and ``participant_joined``, the events that dispatch."""
        return self.event in DISPATCH_EVENT_TYPES

    def summary(self) -> str:
        """One line naming the event, its room and participant, for logs and explanations."""
        parts = [self.event or "<no event type>"]
        if self.id:
            parts.append(self.id)
        if self.room is not None:
            parts.append(f"room {json.dumps(self.room.name)}")
        if self.participant is not None:
            who = json.dumps(self.participant.identity)
            parts.append(f"participant {who} ({self.participant.kind})")
        return " ".join(parts)


def _plain_copy(value: Any, depth: int = 0) -> Any:
    """Copy the dicts and lists of a decoded JSON document so repairs never touch the caller's."""
    if depth > 64:
        return None
    if isinstance(value, Mapping):
        return {key: _plain_copy(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_copy(item, depth + 1) for item in value]
    return value


def _drop(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Remove the value at a pydantic error location; True when something was removed."""
    if not loc:
        return False
    node = data
    for step in loc[:-1]:
        node = _child(node, step)
        if node is None:
            return False
    last = loc[-1]
    if isinstance(node, dict):
        for key in list(node):
            if key == last or (isinstance(key, str) and to_camel(key) == last):
                del node[key]
                return True
    if isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        del node[last]
        return True
    return False


def _child(node: Any, step: int | str) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == step or (isinstance(key, str) and to_camel(key) == step):
                return value
        return None
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None
