"""The caller queue at the service: admit callers under a limit, free slots, tell the hold agents.

The store holds the queue (``Store.admit_caller``, ``release_caller``): a webhook that brings a
caller under a limit admits them, one that shows a slot freed (the serving agent left, the caller
hung up, the room finished) promotes the next in line, in one transaction each, so replicas never
serve a caller twice. The loop here overflows callers who waited too long and sends each hold
agent its caller's place in line (a data packet on ``QUEUE_TOPIC``) when it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Final

from switchboard.livekit import LiveKitClient, LiveKitError
from switchboard.rules import Decision, RoomEvent
from switchboard.rules.admission_models import OverflowKind, QueuePolicy
from switchboard.rules.hold import QUEUE_TOPIC, HoldNotice
from switchboard.store import CallerStatus, Dispatch, Store, StoreError

logger = logging.getLogger("switchboard.queue")

TICK_SECONDS: Final = 1.0
RESEND_SECONDS: Final = 5.0
"""A hold agent that joined after its caller moved up missed the packet: send it again."""
AGENT_NAME_ATTRIBUTES: Final = ("lk.agent_name", "switchboard.agent")
_LEFT: Final = frozenset({"participant_left", "participant_connection_aborted"})


class CallerQueue:
    """Admission and slot release for webhooks, and the loop that keeps hold agents informed."""

    def __init__(
        self, store: Store, client: LiveKitClient, on_enqueued: Callable[[], None]
    ) -> None:
        self._store = store
        self._client = client
        self._on_enqueued = on_enqueued
        self._wake = asyncio.Event()
        self._announced: dict[str, tuple[int, float]] = {}

    async def admit(self, event: RoomEvent, decision: Decision) -> tuple[Decision, int]:
        """Serve, queue or overflow the caller of a limited decision; the decision as admitted
        and how many jobs that queued."""
        if decision.admission is None or not decision.dispatches or event.room is None:
            return decision, 0
        admitted = await self._store.admit_caller(
            decision.admission,
            event.room.name,
            event.room.sid,
            event.id,
            [Dispatch(d.agent, d.metadata) for d in decision.dispatches],
        )
        result = admitted.result
        logger.info(
            "admission",
            extra={
                "room": event.room.name,
                "key": decision.admission.key,
                "kind": result.kind,
                "serving": result.serving,
                "waiting": result.waiting,
                "position": result.position,
            },
        )
        self._wake.set()
        return decision.admitted_as(result), admitted.jobs

    async def release(self, event: RoomEvent) -> int:
        """Free the slot an event shows freed and promote the next callers; jobs queued."""
        freed, agent_name = slot_freed_by(event)
        if not freed or event.room is None:
            return 0
        promoted = await self._store.release_caller(
            event.room.name, event.room.sid, agent_name=agent_name
        )
        for caller in promoted:
            waited = time.time() - caller.enqueued_at.timestamp()
            logger.info(
                "promoted",
                extra={
                    "room": caller.room_name,
                    "key": caller.limit_key,
                    "waited_seconds": round(waited, 1),
                    "slot_room": event.room.name,
                    "freed_by": agent_name or event.event,
                },
            )
        self._wake.set()
        return len(promoted)

    async def run(self) -> None:
        """Forever: overflow callers who waited too long, send hold agents their positions."""
        while True:
            try:
                await self.tick()
            except (StoreError, LiveKitError) as exc:
                logger.warning("caller queue: will retry", extra={"error": str(exc)})
            except Exception:
                logger.exception("caller queue: unexpected error; the loop keeps running")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            self._wake.clear()

    async def tick(self) -> None:
        """One pass: expire, then announce changed positions."""
        expired = await self._store.expire_waiting_callers()
        if expired:
            self._on_enqueued()
        for caller in expired:
            policy = QueuePolicy.model_validate(caller.policy)
            logger.info(
                "overflow: waited too long",
                extra={"room": caller.room_name, "key": caller.limit_key},
            )
            if policy.overflow.kind is OverflowKind.MESSAGE:
                agents = tuple(d.agent_name for d in caller.dispatches)
                bye = policy.overflow.message or ""
                notice = HoldNotice.for_caller(policy, agents, 0, bye)
                await self._send(caller.room_name, notice)
        waiting = [
            c for c in await self._store.active_callers() if c.status is CallerStatus.WAITING
        ]
        now = time.monotonic()
        for caller in waiting:
            sent = self._announced.get(caller.room_name)
            if sent is not None and sent[0] == caller.position and now - sent[1] < RESEND_SECONDS:
                continue
            policy = QueuePolicy.model_validate(caller.policy)
            agents = tuple(d.agent_name for d in caller.dispatches)
            notice = HoldNotice.for_caller(policy, agents, caller.position)
            await self._send(caller.room_name, notice)
            self._announced[caller.room_name] = (caller.position, now)
        rooms = {caller.room_name for caller in waiting}
        for room in [room for room in self._announced if room not in rooms]:
            del self._announced[room]

    async def _send(self, room: str, notice: HoldNotice) -> None:
        try:
            await self._client.send_data(room, notice.to_json().encode(), QUEUE_TOPIC)
        except LiveKitError as exc:
            logger.info("queue notice not sent", extra={"room": room, "error": str(exc)})


def slot_freed_by(event: RoomEvent) -> tuple[bool, str | None]:
    """Whether ``event`` frees a slot, and the agent it needs to have served (None: any).

    The room finished, the caller (a SIP participant) hung up, or an agent left: then only the
    slot that agent was serving is free.
    """
    if event.event == "room_finished":
        return True, None
    participant = event.participant
    if event.event not in _LEFT or participant is None:
        return False, None
    if participant.kind == "SIP":
        return True, None
    if participant.kind == "AGENT":
        names = [participant.attributes.get(key, "") for key in AGENT_NAME_ATTRIBUTES]
        name = next((n for n in names if n), "")
        return bool(name), name or None
    return False, None
