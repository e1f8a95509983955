"""What the service tells the hold agent: its job metadata and the queue updates it is sent.

Both are one JSON object, ``HoldNotice``: the job metadata when the hold agent is dispatched to
a waiting caller, then data packets on ``QUEUE_TOPIC`` as the caller moves up the line (or
overflows). The hold agent leaves when an agent named in ``serving_agents`` joins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from switchboard.rules.admission_models import HoldAudio, QueuePolicy

QUEUE_TOPIC: Final = "switchboard.queue"
"""The data-packet topic of queue updates to the hold agent."""
POSITION_ATTRIBUTE: Final = "switchboard.queue.position"
"""The hold agent's participant attribute: the place in line it last announced."""


@dataclass(frozen=True, slots=True)
class HoldNotice:
    """The caller's place in line, or (``hang_up_message``) the goodbye to say before hanging up."""

    position: int = 0
    hold_audio: HoldAudio = HoldAudio.CHIME
    announce_every_seconds: int = 30
    serving_agents: tuple[str, ...] = field(default_factory=tuple)
    hang_up_message: str = ""

    @classmethod
    def for_caller(
        cls, policy: QueuePolicy, serving_agents: tuple[str, ...], position: int, bye: str = ""
    ) -> HoldNotice:
        """The notice for a caller waiting under ``policy`` at ``position`` (or, with ``bye``,
        about to be hung up with that message)."""
        return cls(
            position=position,
            hold_audio=policy.hold_audio,
            announce_every_seconds=policy.announce_every_seconds,
            serving_agents=serving_agents,
            hang_up_message=bye,
        )

    def to_json(self) -> str:
        """Compact JSON (the job metadata, a data packet's payload)."""
        body: dict[str, Any] = {
            "position": self.position,
            "hold_audio": str(self.hold_audio),
            "announce_every_seconds": self.announce_every_seconds,
            "serving_agents": list(self.serving_agents),
        }
        if self.hang_up_message:
            body["hang_up_message"] = self.hang_up_message
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> HoldNotice:
        """Parse ``to_json`` output; unknown or malformed fields fall back to the defaults."""
        try:
            body = json.loads(text or "{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        audio = body.get("hold_audio")
        agents = body.get("serving_agents")
        return cls(
            position=_int(body.get("position"), 0),
            hold_audio=HoldAudio(audio) if audio in set(HoldAudio) else HoldAudio.CHIME,
            announce_every_seconds=max(1, _int(body.get("announce_every_seconds"), 30)),
            serving_agents=tuple(a for a in agents if isinstance(a, str))
            if isinstance(agents, list)
            else (),
            hang_up_message=str(body.get("hang_up_message") or ""),
        )


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
