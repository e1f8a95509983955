"""The watchdog's judgement: is a caller alone in a room the rules want an agent in, and what now.

An agent whose job process dies leaves its caller alone, and nothing brings it back: the server
does not restart the job, and its dispatch stays listed, so the reconciler sees nothing missing
(docs/livekit-semantics.md, n1); livekit-sip keeps the silent call up (n2). Each watchdog pass
looks at the rooms: a caller alone (no agent, no other person) for ``watchdog_seconds`` after an
agent left gets the rules' agents again (recovery 1, 2...). A dispatched agent that does not
join within ``watchdog_join_seconds`` is a failed recovery; after ``watchdog_max_recoveries``
the caller gets the overflow: the overflow agent when one is set, else a hang-up, so nobody
waits in silence. Pure: the reconciler's watch pass does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from switchboard.livekit import ParticipantState
from switchboard.vocabulary import HUMAN_KINDS, ParticipantKind

AGENT_KIND: Final = ParticipantKind.AGENT.webhook_name
PERSON_KINDS: Final = frozenset(kind.webhook_name for kind in HUMAN_KINDS)
"""Kinds a person joins as (browser or app, phone); egress, ingress and agents are not people."""
GONE_STATE: Final = "DISCONNECTED"


class WatchdogAction(StrEnum):
    """What the watchdog does about one room in one pass; also the ``action`` of its facts."""

    NOTHING = "nothing"
    """Somebody is with the caller, or nobody is there to strand."""
    WAIT = "wait"
    """The caller is alone, not long enough yet."""
    REDISPATCH = "redispatch"
    """Dispatch the agents the rules want again."""
    OVERFLOW_AGENT = "overflow_agent"
    """Recoveries exhausted: dispatch the configured overflow agent."""
    HANG_UP = "hang_up"
    """Recoveries exhausted and no overflow agent: end the caller's call."""


@dataclass(frozen=True, slots=True)
class WatchdogPolicy:
    """The watchdog settings (``SWITCHBOARD_WATCHDOG_*``)."""

    seconds: float
    """How long a caller may be alone after an agent left before the agents are dispatched again."""
    join_seconds: float
    """How long a dispatched agent may take to join before it counts as a failed recovery."""
    max_recoveries: int
    overflow_agent: str = ""


@dataclass(frozen=True, slots=True)
class RoomWatch:
    """What the watchdog remembers of one room session between passes."""

    alone_since: float | None = None
    """When the caller was first seen alone (monotonic seconds); None when not alone."""
    agent_seen: bool = False
    """An agent was in the room since the watchdog last acted there (or since it started)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The action for one room, and for a recovery its number and why."""

    action: WatchdogAction
    caller: str = ""
    recovery: int = 0
    reason: str = ""


def alone_caller(participants: Iterable[ParticipantState]) -> str | None:
    """The identity of the one person in a room with no agent and nobody else, else None."""
    present = [p for p in participants if p.state != GONE_STATE]
    if any(p.kind == AGENT_KIND for p in present):
        return None
    people = [p for p in present if p.kind in PERSON_KINDS]
    return people[0].identity if len(people) == 1 else None


def observe(
    watch: RoomWatch, participants: Iterable[ParticipantState], now: float
) -> tuple[RoomWatch, str | None]:
    """The room's watch after looking at its participants, and the caller alone, if any."""
    present = list(participants)
    caller = alone_caller(present)
    agent_seen = watch.agent_seen or any(
        p.kind == AGENT_KIND and p.state != GONE_STATE for p in present
    )
    if caller is None:
        return RoomWatch(None, agent_seen), None
    since = watch.alone_since if watch.alone_since is not None else now
    return RoomWatch(since, agent_seen), caller


def judge(
    watch: RoomWatch, caller: str | None, recoveries: int, now: float, policy: WatchdogPolicy
) -> Verdict:
    """What to do about a room the rules want agents in; ``recoveries``: done so far."""
    if caller is None or watch.alone_since is None:
        return Verdict(WatchdogAction.NOTHING)
    alone_for = now - watch.alone_since
    if watch.agent_seen:
        limit, why = policy.seconds, f"the agent left and the caller was alone {alone_for:.1f}s"
    else:
        limit = policy.join_seconds
        why = f"no agent joined and the caller was alone {alone_for:.1f}s"
    if alone_for < limit:
        return Verdict(WatchdogAction.WAIT, caller)
    if recoveries < policy.max_recoveries:
        return Verdict(WatchdogAction.REDISPATCH, caller, recoveries + 1, why)
    exhausted = f"{why}, after {recoveries} recoveries (SWITCHBOARD_WATCHDOG_MAX_RECOVERIES)"
    if recoveries == policy.max_recoveries and policy.overflow_agent:
        return Verdict(WatchdogAction.OVERFLOW_AGENT, caller, recoveries + 1, exhausted)
    if recoveries <= policy.max_recoveries + bool(policy.overflow_agent):
        return Verdict(WatchdogAction.HANG_UP, caller, recoveries + 1, exhausted)
    return Verdict(WatchdogAction.NOTHING, caller)  # hung up already; the call is ending


def after_action(watch: RoomWatch, now: float) -> RoomWatch:
    """The watch once the watchdog acted (or saw another replica act): the clock starts again
    and the next agent must be seen joining."""
    return RoomWatch(now if watch.alone_since is not None else None, agent_seen=False)
