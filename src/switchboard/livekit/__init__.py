"""Thin adapters over livekit-api (``LiveKitClient``, typed errors, SIP rule sync, join tokens):
how the service and the CLI call the LiveKit server API (dispatcher, reconciler, ``explain``,
``rules apply --sip``, ``trunk``, ``dev``, ``call``).

Not the only caller of that API: the console (``switchboard.console``) and ``doctor --server``
(``switchboard.doctor``) make their own ``livekit.api.LiveKitAPI``, and the hand-off primitives
(``switchboard.handoff``) and bundled agents use the one their job or caller gives them.
"""

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
