"""Reconciliation: compare what the rules want in each open room with what the server has.

Webhooks get lost (queue drops, server restarts, our own downtime). Each pass lists the rooms,
decides a synthetic ``room_started`` per room and, when some rule may act on joins, a synthetic
``participant_joined`` per participant (the same decisions the webhooks would have got), and
enqueues the agents that have neither a dispatch on the server nor a job in the store; the
dispatcher then repairs them. Events recorded but never decided (the process stopped between
the two) are decided too.

The watch pass (``watch_once``, every ``watchdog_interval`` when ``watchdog_seconds`` is set)
is the other half: a dispatch that is listed does not mean an agent is there (a job process
that died leaves its dispatch listed), so it looks at who is in each room and lets the watchdog
(watchdog.py) judge a caller left alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from switchboard.livekit import (
    LiveKitClient,
    LiveKitError,
    ParticipantState,
    RoomState,
    ServerDispatch,
)
from switchboard.rules import (
    DISPATCH_EVENT_TYPES,
    AgentDispatch,
    Decision,
    RoomEvent,
    RulesHolder,
)
from switchboard.service.decide import decide_and_record
from switchboard.service.metrics import ServiceMetrics
from switchboard.service.watchdog import (
    RoomWatch,
    Verdict,
    WatchdogAction,
    WatchdogPolicy,
    after_action,
    judge,
    observe,
)
from switchboard.settings import Settings
from switchboard.store import Job, Store, StoreError

logger = logging.getLogger("switchboard.reconciler")

UNDECIDED_AFTER_SECONDS: Final = 30.0


@dataclass
class ReconcileReport:
    """Rooms looked at, and the agents enqueued per room."""

    rooms: int = 0
    repairs: dict[str, list[str]] = field(default_factory=dict)
    decided_late: int = 0
    closed_meanwhile: int = 0


class Reconciler:
    """One pass with ``reconcile_once()``; ``run()`` repeats it every ``reconcile_interval``."""

    def __init__(
        self,
        store: Store,
        client: LiveKitClient,
        rules: RulesHolder,
        settings: Settings,
        metrics: ServiceMetrics,
    ) -> None:
        self._store = store
        self._client = client
        self._rules = rules
        self._settings = settings
        self._metrics = metrics
        self._watches: dict[str, RoomWatch] = {}
        self._policy = WatchdogPolicy(
            seconds=settings.watchdog_seconds,
            join_seconds=settings.watchdog_join_seconds,
            max_recoveries=settings.watchdog_max_recoveries,
            overflow_agent=settings.watchdog_overflow_agent,
        )

    async def run(self, on_repair: asyncio.Event | None = None) -> None:
        """Reconcile every ``reconcile_interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._settings.reconcile_interval)
            try:
                report = await self.reconcile_once()
            except (LiveKitError, StoreError) as exc:
                logger.warning("reconcile: skipped this pass", extra={"error": str(exc)})
                continue
            except Exception:
                logger.exception("reconcile: unexpected error; the loop keeps running")
                continue
            if (report.repairs or report.decided_late) and on_repair is not None:
                on_repair.set()

    async def reconcile_once(self) -> ReconcileReport:
        """Enqueue what the rules want and nobody asked for; raises ``LiveKitError`` when the
        server cannot be listed."""
        report = ReconcileReport()
        report.decided_late = await self._decide_undecided()
        rooms = await self._client.list_rooms()
        report.rooms = len(rooms)
        intents = await self._store.intents_for_rooms([room.name for room in rooms])
        for room in rooms:
            enqueued = await self.reconcile_room(room, intents.get(room.name, []))
            if enqueued is None:
                report.closed_meanwhile += 1
            elif enqueued:
                report.repairs[room.name] = enqueued
        return report

    async def reconcile_room(self, room: RoomState, intents: Iterable[Job]) -> list[str] | None:
        """Enqueue what the rules want in one listed room (``intents``: its jobs in the store);
        None when the room closed since it was listed."""
        have_job = {job.agent_name for job in intents if _same(job, room)}
        try:
            return await self._repair(room, have_job)
        except LiveKitError:
            # A room that closes mid-pass makes its ListDispatch a 503 (semantics suite): that
            # room is done, and the pass goes on. A room still open failed for real: raise.
            current = await self._client.get_room(room.name)
            if current is not None and current.sid == room.sid:
                raise
            logger.info("reconcile: room closed while the pass ran", extra={"room": room.name})
            return None

    async def _repair(self, room: RoomState, have_job: set[str]) -> list[str]:
        wanted = await self._wanted(room)
        if not wanted:
            return []
        server_dispatches = await self._client.list_dispatches(room.name)
        await self._redispatch_unserved(room, wanted, server_dispatches)
        dispatched = {d.agent_name for d in server_dispatches}
        enqueued = []
        for agent, (dispatch, decision) in wanted.items():
            if agent in have_job or agent in dispatched:
                continue
            new = await self._store.enqueue_dispatch(
                room.name, agent, dispatch.metadata, decision.event.id, room_sid=room.sid
            )
            if new:
                enqueued.append(agent)
        if enqueued:
            self._metrics.repairs.inc(len(enqueued))
            rules = sorted({wanted[agent][1].rule_id for agent in enqueued})
            await self._store.record_room_fact(
                room.name,
                "reconciled",
                {
                    "rule": rules[0] if len(rules) == 1 else rules,
                    "enqueued": enqueued,
                    "events": sorted({wanted[agent][1].event.summary() for agent in enqueued}),
                    "had_dispatches": sorted(dispatched),
                },
                room_sid=room.sid,
            )
            logger.info(
                "reconcile", extra={"room": room.name, "rules": rules, "enqueued": enqueued}
            )
        return enqueued

    async def run_watchdog(self) -> None:
        """Run the watch pass every ``watchdog_interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._settings.watchdog_interval)
            try:
                await self.watch_once()
            except (LiveKitError, StoreError) as exc:
                logger.warning("watchdog: skipped this pass", extra={"error": str(exc)})
            except Exception:
                logger.exception("watchdog: unexpected error; the loop keeps running")

    async def watch_once(self, now: float | None = None) -> dict[str, Verdict]:
        """Judge every room with somebody in it; returns the rooms acted on, with the verdict.
        ``now``: monotonic seconds (the watchdog's clock)."""
        now = time.monotonic() if now is None else now
        rooms = [room for room in await self._client.list_rooms() if room.num_participants]
        open_sids = {room.sid for room in rooms}
        self._watches = {sid: w for sid, w in self._watches.items() if sid in open_sids}
        acted = {}
        for room in rooms:
            try:
                verdict = await self._watch_room(room, now)
            except LiveKitError as exc:
                # A room that closes mid-pass fails its calls; the next pass will not list it.
                logger.info("watchdog: room skipped", extra={"room": room.name, "error": str(exc)})
                continue
            if verdict.action not in (WatchdogAction.NOTHING, WatchdogAction.WAIT):
                acted[room.name] = verdict
        return acted

    async def _watch_room(self, room: RoomState, now: float) -> Verdict:
        participants = await self._client.list_participants(room.name)
        watch, caller = observe(self._watches.get(room.sid, RoomWatch()), participants, now)
        self._watches[room.sid] = watch
        if caller is None:
            return Verdict(WatchdogAction.NOTHING)
        wanted = await self._wanted(room, participants)
        if not wanted:
            return Verdict(WatchdogAction.NOTHING)
        recoveries = await self._store.recoveries(room.name, room.sid)
        verdict = judge(watch, caller, recoveries, now, self._policy)
        if verdict.action in (WatchdogAction.NOTHING, WatchdogAction.WAIT):
            return verdict
        self._watches[room.sid] = after_action(watch, now)
        if verdict.action is WatchdogAction.REDISPATCH:
            agents = {agent: dispatch.metadata for agent, (dispatch, _) in wanted.items()}
        elif verdict.action is WatchdogAction.OVERFLOW_AGENT:
            agents = {self._policy.overflow_agent: ""}
        else:
            agents = {}
        detail = {"caller": caller, "agents": sorted(agents), "reason": verdict.reason}
        claimed = await self._store.claim_recovery(
            room.name, room.sid, verdict.recovery, verdict.action.value, detail
        )
        if not claimed:  # another replica took this recovery; its outcome is awaited
            return Verdict(WatchdogAction.NOTHING, caller)
        if verdict.action is WatchdogAction.HANG_UP:
            await self._client.remove_participant(room.name, caller)
        for agent, metadata in agents.items():
            await self._client.create_dispatch(room.name, agent, metadata)
        self._metrics.recoveries.labels(action=verdict.action.value).inc()
        logger.info(
            "watchdog",
            extra={
                "room": room.name,
                "caller": caller,
                "action": verdict.action.value,
                "recovery": verdict.recovery,
                "agents": sorted(agents),
                "reason": verdict.reason,
            },
        )
        return verdict

    async def _wanted(
        self, room: RoomState, participants: list[ParticipantState] | None = None
    ) -> dict[str, tuple[AgentDispatch, Decision]]:
        """Each agent the rules want in ``room``, with the decision that wants it: the room's
        ``room_started`` and, when a rule may act on joins, each participant's
        ``participant_joined`` (the same decisions the lost webhooks would have got);
        ``participants`` as just listed, else listed here."""
        events = [
            {
                "event": "room_started",
                "id": f"reconcile-{room.sid}",
                "createdAt": str(room.creation_time),
                "room": room.to_webhook_room(),
            }
        ]
        if self._rules.rules.may_dispatch_on("participant_joined"):
            if participants is None:
                participants = await self._client.list_participants(room.name)
            events += [
                {
                    "event": "participant_joined",
                    "id": f"reconcile-{room.sid}-{participant.sid}",
                    "createdAt": str(participant.joined_at),
                    "room": room.to_webhook_room(),
                    "participant": participant.to_webhook_participant(),
                }
                for participant in participants
            ]
        wanted: dict[str, tuple[AgentDispatch, Decision]] = {}
        for body in events:
            decision = self._rules.decide(RoomEvent.from_webhook_dict(body))
            for dispatch in decision.dispatches:
                wanted.setdefault(dispatch.agent, (dispatch, decision))
        return wanted

    async def _redispatch_unserved(
        self, room: RoomState, wanted: Iterable[str], dispatches: list[ServerDispatch]
    ) -> None:
        """Delete and re-create wanted dispatches that the server never gave to a worker."""
        now_ns = time.time_ns()
        limit_ns = int(self._settings.unserved_dispatch_seconds * 1e9)
        wanted_names = set(wanted)
        for dispatch in dispatches:
            if dispatch.agent_name not in wanted_names or dispatch.jobs:
                continue
            if not dispatch.created_at_ns or now_ns - dispatch.created_at_ns < limit_ns:
                continue
            await self._client.delete_dispatch(dispatch.dispatch_id, room.name)
            await self._client.create_dispatch(room.name, dispatch.agent_name, dispatch.metadata)
            self._metrics.repairs.inc()
            age = (now_ns - dispatch.created_at_ns) / 1e9
            await self._store.record_room_fact(
                room.name,
                "redispatched",
                {
                    "agent": dispatch.agent_name,
                    "reason": f"the server held the dispatch {age:.0f}s without offering it "
                    "to a worker (none known for that agent when it was dispatched)",
                },
                room_sid=room.sid,
            )
            logger.info(
                "reconcile: redispatched", extra={"room": room.name, "agent": dispatch.agent_name}
            )

    async def _decide_undecided(self) -> int:
        events = await self._store.undecided_events(
            DISPATCH_EVENT_TYPES, older_than_seconds=UNDECIDED_AFTER_SECONDS
        )
        decided = 0
        for stored in events:
            event = RoomEvent.from_webhook_dict(json.loads(stored.body_json))
            if await decide_and_record(self._store, self._rules, event):
                decided += 1
        return decided


def _same(job: Job, room: RoomState) -> bool:
    """True when ``job`` belongs to the room's current session (any status: the store keeps one
    job per session and agent, so a finished or dead one is not enqueued again)."""
    return not job.room_sid or job.room_sid == room.sid
