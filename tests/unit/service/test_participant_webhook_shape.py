"""A participant from ListParticipants reads like the one in a participant_joined webhook."""

from __future__ import annotations

from switchboard.livekit.models import ParticipantState
from switchboard.rules import RoomEvent


def test_a_listed_participant_becomes_the_webhook_participant_the_rules_read() -> None:
    caller = ParticipantState(
        identity="sip_+15551234567",
        kind="SIP",
        state="ACTIVE",
        sid="PA_1",
        metadata='{"tier": "vip"}',
        attributes={"sip.phoneNumber": "+15551234567"},
        joined_at=1764000000,
    )
    event = RoomEvent.from_webhook_dict(
        {"event": "participant_joined", "id": "x", "participant": caller.to_webhook_participant()}
    )
    assert event.participant is not None
    assert event.participant.kind == "SIP"
    assert event.participant.attributes == {"sip.phoneNumber": "+15551234567"}
    assert event.participant.metadata_object == {"tier": "vip"}
    assert event.participant.joined_at == 1764000000
    standard = ParticipantState(identity="web-1", kind="STANDARD", state="ACTIVE")
    assert "kind" not in standard.to_webhook_participant()  # as the server omits it
