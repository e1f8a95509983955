"""Thin adapters over livekit-api: the only place the service calls the LiveKit server API."""

from switchboard.livekit.client import LiveKitClient
from switchboard.livekit.errors import LiveKitError
from switchboard.livekit.models import ParticipantState, RoomState, ServerDispatch
from switchboard.livekit.sip import apply_sip_plan, list_sip_dispatch_rules
from switchboard.livekit.tokens import join_token

__all__ = [
    "LiveKitClient",
    "LiveKitError",
    "ParticipantState",
    "RoomState",
    "ServerDispatch",
    "apply_sip_plan",
    "join_token",
    "list_sip_dispatch_rules",
]
