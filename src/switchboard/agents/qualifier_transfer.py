"""The qualifier's side of a transfer: the job it gives the outbound-caller, and following that
agent in the caller's room until it reports the human answered or the transfer failed.

The outbound-caller says how its call went in its own attributes (``switchboard.result``,
``switchboard.error``); two timers cover an outbound-caller that never joins and a transfer that
never ends. The qualifier decides what each outcome means for the caller (qualifier.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from livekit import rtc

from switchboard.agents import attributes as attr
from switchboard.agents.config import AgentsConfig, TransferTarget
from switchboard.agents.conversation import Timer, spawn
from switchboard.agents.jobs import OutboundCallJob
from switchboard.telemetry import current_traceparent
from switchboard.vocabulary import (
    CallMode,
    DialOutcome,
    OutboundCallerResult,
    TargetRoom,
    TransferOutcome,
)

_FAILURES = frozenset(
    {
        *DialOutcome,
        OutboundCallerResult.BAD_METADATA,
        TransferOutcome.NO_DECISION,
        TransferOutcome.CALLER_LEFT,
        TransferOutcome.HUMAN_LEFT,
        TransferOutcome.ALL_BUSY,
    }
)
"""The outbound-caller results that end the transfer without a human."""

Failed = Callable[[str, str], Coroutine[Any, Any, None]]
"""Called with the outcome and its one-line explanation."""
Answered = Callable[[str], Coroutine[Any, Any, None]]
"""Called with the identity of the human the outbound-caller reached."""


def why_uncallable(name: str, target: TransferTarget, number_to_dial: str) -> str | None:
    """Why ``target`` cannot be called (what happened and the fix), or None when it can."""
    if target.room is TargetRoom.NEW:
        if target.configured and number_to_dial:
            return None
        missing = (
            "the caller's phone number is unknown"
            if target.configured
            else "the target has no sip_trunk_id/number"
        )
        return (
            f"transfer target {name!r} cannot be called: {missing}. Fix: set sip_trunk_id "
            f"and number under transfer.targets.{name} (number: caller needs a SIP caller)."
        )
    if target.configured:
        return None
    return (
        f"transfer target {name!r} has no sip_trunk_id/number. Fix: set both under "
        f"transfer.targets.{name} in the agents config."
    )


def _job(
    name: str,
    target: TransferTarget,
    brief: str,
    caller_room: str,
    caller: str,
    **mode_fields: Any,
) -> OutboundCallJob:
    """The outbound-caller's job for ``target``: what every mode shares, then its own."""
    return OutboundCallJob(
        brief=brief,
        caller_room=caller_room,
        caller_identity=caller,
        target=name,
        traceparent=current_traceparent(),
        display_name=target.display_name,
        ringing_timeout_seconds=target.ringing_timeout_seconds,
        **mode_fields,
    )


def caller_room_job(
    name: str, target: TransferTarget, brief: str, *, caller_room: str, caller: str
) -> OutboundCallJob:
    """Dial ``target``'s human (or humans) into ``caller_room``."""
    first = target.lines()[0]
    return _job(
        name,
        target,
        brief,
        caller_room,
        caller,
        number=first.number,
        sip_trunk_id=first.sip_trunk_id,
        handoff=target.handoff,
        decision_seconds=target.decision_seconds,
        humans=target.lines() if target.humans else [],
        ring=target.ring,
        busy_wait_seconds=target.busy_wait_seconds,
    )


def new_room_job(
    name: str, target: TransferTarget, brief: str, *, caller_room: str, caller: str, number: str
) -> OutboundCallJob:
    """Call ``number`` from a new room and wait there for a representative (``room: new``)."""
    options = target.new_room
    return _job(
        name,
        target,
        brief,
        caller_room,
        caller,
        mode=CallMode.REPRESENTATIVE,
        number=number,
        sip_trunk_id=target.sip_trunk_id,
        say=[options.greeting, brief] if options.say_brief else [options.greeting],
        on_no_representative=options.on_no_representative,
        representative=options.representative,
        representative_wait_seconds=options.representative_wait_seconds,
        wait_for_caller=target.calls_caller_back,
    )


class OutboundCallerWatch:
    """Follows the outbound-caller dispatched into the caller's room, until ``stop``."""

    def __init__(
        self, room: rtc.Room, config: AgentsConfig, *, on_failed: Failed, on_answered: Answered
    ) -> None:
        self._room = room
        self._config = config
        self._on_failed = on_failed
        self._on_answered = on_answered
        self._transfer_timer = Timer()
        self._dispatch_timer = Timer()
        self._watching = False

    def watch(self) -> None:
        """Listen for the outbound-caller; call before dispatching it so no update is missed."""
        if self._watching:
            return
        self._watching = True
        self._room.on("participant_attributes_changed", self._on_attributes_changed)
        self._room.on("participant_connected", self._on_participant_connected)

    def arm(self, target: TransferTarget) -> None:
        """Once it is dispatched: start both timers, and read what is in the room already."""
        timeouts = self._config.timeouts
        self._transfer_timer.arm(
            timeouts.transfer_seconds + target.transfer_allowance(),
            lambda: self._on_failed(
                DialOutcome.TIMEOUT, "no human joined before timeouts.transfer_seconds"
            ),
        )
        self._dispatch_timer.arm(timeouts.dispatch_seconds, self._not_dispatched)
        for participant in list(self._room.remote_participants.values()):
            self._on_participant_connected(participant)
            self._on_attributes_changed({}, participant)

    def stop(self) -> None:
        """The transfer settled or the call ended: no timer fires, no update is read."""
        self._transfer_timer.cancel()
        self._dispatch_timer.cancel()
        if self._watching:
            self._watching = False
            self._room.off("participant_attributes_changed", self._on_attributes_changed)
            self._room.off("participant_connected", self._on_participant_connected)

    def _is_outbound_caller(self, participant: rtc.Participant) -> bool:
        return participant.attributes.get(attr.AGENT) == self._config.outbound_caller.name

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if self._is_outbound_caller(participant):
            self._dispatch_timer.cancel()

    def _on_attributes_changed(
        self, _changed: Mapping[str, str], participant: rtc.Participant
    ) -> None:
        if not self._is_outbound_caller(participant):
            return
        self._dispatch_timer.cancel()
        outcome = participant.attributes.get(attr.RESULT, "")
        if outcome in _FAILURES:
            spawn(self._on_failed(outcome, participant.attributes.get(attr.ERROR, "")))
        elif outcome == OutboundCallerResult.ANSWERED:
            spawn(self._on_answered(participant.attributes.get(attr.CALLEE, "")))

    async def _not_dispatched(self) -> None:
        name = self._config.outbound_caller.name
        seconds = self._config.timeouts.dispatch_seconds
        await self._on_failed(
            TransferOutcome.NOT_DISPATCHED,
            f"no worker took the transfer: nothing registered as agent_name {name!r} joined "
            f"within {seconds:g} s (timeouts.dispatch_seconds). Fix: run `switchboard agent "
            f"outbound-caller --agent-name {name}`, or set outbound_caller.name in this "
            "qualifier's agents config to the name your outbound-caller registers.",
        )
