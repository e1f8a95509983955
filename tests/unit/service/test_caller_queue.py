"""Which webhooks free a slot of the caller queue (``slot_freed_by``), pure."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.rules import RoomEvent
from switchboard.service.caller_queue import slot_freed_by


def _event(kind: str, participant_kind: str | None = None, **attributes: str) -> RoomEvent:
    body: dict[str, Any] = {"event": kind, "id": "EV_1", "room": {"name": "call_1", "sid": "RM_1"}}
    if participant_kind is not None:
        body["participant"] = {"identity": "p", "kind": participant_kind, "attributes": attributes}
    return RoomEvent.from_webhook_dict(body)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("room_finished"), (True, None)),
        (_event("participant_left", "SIP"), (True, None)),
        (_event("participant_connection_aborted", "SIP"), (True, None)),
        (_event("participant_left", "AGENT", **{"lk.agent_name": "served"}), (True, "served")),
        (_event("participant_left", "AGENT", **{"switchboard.agent": "hold"}), (True, "hold")),
        (_event("participant_left", "AGENT"), (False, None)),
        (_event("participant_left", "STANDARD"), (False, None)),
        (_event("participant_joined", "SIP"), (False, None)),
        (_event("room_started"), (False, None)),
    ],
)
def test_slot_freed_by(event: RoomEvent, expected: tuple[bool, str | None]) -> None:
    assert slot_freed_by(event) == expected
