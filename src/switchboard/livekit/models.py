"""What the LiveKit server reports, as plain data (no protobuf outside ``switchboard.livekit``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RoomState:
    """A room as ``ListRooms`` reports it."""

    name: str
    sid: str
    metadata: str
    num_participants: int
    creation_time: int

    def to_webhook_room(self) -> dict[str, Any]:
        """The ``room`` object of a webhook body for this room (lowerCamelCase, like the server)."""
        return {
            "sid": self.sid,
            "name": self.name,
            "metadata": self.metadata,
            "numParticipants": self.num_participants,
            "creationTime": str(self.creation_time),
        }


@dataclass(frozen=True, slots=True)
class ServerDispatch:
    """An agent dispatch the server holds for a room."""

    dispatch_id: str
    agent_name: str
    room: str
    metadata: str
    jobs: int = 0
    """Jobs the server launched for it: 0 means no worker has been offered it (yet)."""
    created_at_ns: int = 0

    def to_json(self) -> dict[str, str]:
        """A JSON-able dict, as stored in a job's ``server_answer``."""
        return {
            "dispatch_id": self.dispatch_id,
            "agent_name": self.agent_name,
            "room": self.room,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class ParticipantState:
    """A participant in a room: identity, kind (``STANDARD``, ``AGENT``, ``SIP``...) and state."""

    identity: str
    kind: str
    state: str
    sid: str = ""
    name: str = ""
    metadata: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    joined_at: int = 0

    def to_webhook_participant(self) -> dict[str, Any]:
        """The ``participant`` object of a webhook body (the server omits a STANDARD kind)."""
        body: dict[str, Any] = {
            "sid": self.sid,
            "identity": self.identity,
            "name": self.name,
            "metadata": self.metadata,
            "attributes": dict(self.attributes),
            "state": self.state,
            "joinedAt": str(self.joined_at),
        }
        if self.kind != "STANDARD":
            body["kind"] = self.kind
        return body
