"""Leave the room (never delete it) once the human the call is handed to has joined.

Whoever is already in the room when the watch starts (the caller being handed over, a
supervisor listening in) is not that human, so by default they never count: only a participant
who joins afterwards, or who left and came back, can send the agent away.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livekit import rtc

from switchboard import vocabulary
from switchboard.vocabulary import (
    AttributeKey,
    LiveKitAttribute,
    ParticipantKind,
    Role,
    SipCallStatus,
)

if TYPE_CHECKING:
    from livekit.agents import JobContext

logger = logging.getLogger("switchboard.handoff")

KIND_BY_NAME: Mapping[str, int] = {
    kind.value: rtc.ParticipantKind.Value(f"PARTICIPANT_KIND_{kind.webhook_name}")
    for kind in ParticipantKind
}
"""``rtc.ParticipantKind`` by name (``sip``...): the SDK's numbers, not the server's."""
HUMAN_KINDS: tuple[int, ...] = tuple(KIND_BY_NAME[kind] for kind in vocabulary.HUMAN_KINDS)


@dataclass(frozen=True, slots=True)
class HumanMatcher:
    """Which participant counts as the human: kind, identity regex, and one attribute value.

    A SIP participant joins the room while its phone is still ringing, so it only counts once
    its ``sip.callStatus`` attribute is ``active`` (the callee answered). On ``switchboard.role``
    the older spelling ``human-agent`` and ``representative`` are one role (``Role.canonical``).
    """

    kinds: frozenset[int] = frozenset(HUMAN_KINDS)
    identity_pattern: re.Pattern[str] | None = None
    attribute: tuple[str, str] | None = None
    exclude_identities: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        kinds: Collection[int | str] = HUMAN_KINDS,
        identity_pattern: str | None = None,
        attribute: tuple[str, str] | None = None,
        exclude_identities: Collection[str] = (),
    ) -> HumanMatcher:
        """Kinds may be ``rtc.ParticipantKind`` values or names ('sip', 'standard', ...)."""
        return cls(
            kinds=frozenset(KIND_BY_NAME[k] if isinstance(k, str) else k for k in kinds),
            identity_pattern=re.compile(identity_pattern) if identity_pattern else None,
            attribute=attribute,
            exclude_identities=frozenset(exclude_identities),
        )

    def matches(self, kind: int, identity: str, attributes: Mapping[str, str]) -> bool:
        if kind not in self.kinds or identity in self.exclude_identities:
            return False
        if self.identity_pattern is not None and not self.identity_pattern.fullmatch(identity):
            return False
        if self.attribute is not None and not _has_attribute(attributes, *self.attribute):
            return False
        sip = kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
        status = attributes.get(LiveKitAttribute.SIP_CALL_STATUS, SipCallStatus.ACTIVE)
        return not sip or status == SipCallStatus.ACTIVE

    def matches_participant(self, participant: rtc.RemoteParticipant) -> bool:
        return self.matches(participant.kind, participant.identity, participant.attributes)


def _has_attribute(attributes: Mapping[str, str], name: str, expected: str) -> bool:
    value = attributes.get(name)
    if value is None or name != AttributeKey.ROLE:
        return value == expected
    return Role.canonical(value) == Role.canonical(expected)


def leave_when_human_joins(
    ctx: JobContext,
    *,
    kinds: Collection[int | str] = HUMAN_KINDS,
    identity_pattern: str | None = None,
    attribute: tuple[str, str] | None = None,
    exclude_identities: Collection[str] = (),
    count_present: bool = False,
    reason: str = "human joined",
    before_leaving: Callable[[rtc.RemoteParticipant], Awaitable[None]] | None = None,
) -> asyncio.Future[rtc.RemoteParticipant]:
    """Call ``ctx.shutdown(reason)`` when a matching human joins the room.

    The agent disconnects; the room and everyone else stay. Participants already in the room
    when this is called (or, if the agent is not connected yet, when it connects) never count
    until they leave and rejoin; ``count_present=True`` counts them too, so a matching human
    already there sends the agent away at once. ``exclude_identities`` never count.
    ``before_leaving`` runs first (bounded to 5 s), e.g. to publish a final attribute. Returns
    a future resolved with the human.
    """
    matcher = HumanMatcher.build(kinds, identity_pattern, attribute, exclude_identities)
    room = ctx.room
    found: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()
    present: set[str] = set()  # in the room when the watch started; they count once rejoined
    snapshot_due = not count_present

    async def leave(human: rtc.RemoteParticipant) -> None:
        if before_leaving is not None:
            try:
                await asyncio.wait_for(before_leaving(human), timeout=5)
            except Exception:
                logger.warning("before_leaving failed", exc_info=True)
        logger.info(
            "human joined, agent leaving", extra={"room": room.name, "human": human.identity}
        )
        ctx.shutdown(reason=f"{reason}: {human.identity}")

    def check(participant: rtc.Participant) -> None:
        if found.done() or not isinstance(participant, rtc.RemoteParticipant):
            return
        if participant.identity in present:
            return
        if matcher.matches_participant(participant):
            found.set_result(participant)
            detach()
            task = asyncio.create_task(leave(participant), name="switchboard.leave")
            _leaving.add(task)  # the loop only keeps weak references to tasks
            task.add_done_callback(_leaving.discard)

    def on_attributes(_changed: Mapping[str, str], participant: rtc.Participant) -> None:
        check(participant)

    def on_left(participant: rtc.RemoteParticipant) -> None:
        present.discard(participant.identity)

    def on_connection(state: int) -> None:
        nonlocal snapshot_due
        if state != rtc.ConnectionState.CONN_CONNECTED:
            return
        if snapshot_due:
            snapshot_due = False
            present.update(room.remote_participants)
        for participant in list(room.remote_participants.values()):
            check(participant)

    def detach() -> None:
        room.off("participant_connected", check)
        room.off("participant_disconnected", on_left)
        room.off("participant_attributes_changed", on_attributes)
        room.off("connection_state_changed", on_connection)

    room.on("participant_connected", check)
    room.on("participant_disconnected", on_left)
    room.on("participant_attributes_changed", on_attributes)
    room.on("connection_state_changed", on_connection)
    if room.isconnected():
        on_connection(rtc.ConnectionState.CONN_CONNECTED)
    return found


_leaving: set[asyncio.Task[None]] = set()
