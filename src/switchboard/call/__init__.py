"""``switchboard call``: a real SIP call from the terminal (baresip), keypad digits as DTMF,
the agents' words printed from the room's transcript."""

from switchboard.call._call import CallRequest, place_call
from switchboard.call._phone import CallError

__all__ = ["CallError", "CallRequest", "place_call"]
