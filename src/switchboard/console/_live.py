"""The live view: poll LiveKit and the store about once a second, remember what changed, and
hand every subscriber the newest snapshot (the ``/console/api/events`` stream). Each room
carries its call's waterfall (``trace``), rebuilt from the store with the attributes seen now."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from livekit import api

from switchboard.store import DecisionRecord, Store, TimelineEntry
from switchboard.tracing.rebuild import load_trace
from switchboard.vocabulary import AttributeKey, LiveKitAttribute, ParticipantKind

logger = logging.getLogger("switchboard.console")

KEEP_CLOSED_ROOMS = timedelta(minutes=15)


def participant_json(info: api.ParticipantInfo) -> dict[str, Any]:
    """What the console shows of a participant (no token, no metadata beyond attributes)."""
    attributes = dict(info.attributes)
    kind = ParticipantKind.from_number(info.kind)
    state = attributes.get(AttributeKey.STATE, attributes.get(LiveKitAttribute.AGENT_STATE, ""))
    return {
        "identity": info.identity,
        "name": info.name,
        "kind": kind.value if kind is not None else str(info.kind),
        "agent_name": attributes.get(LiveKitAttribute.AGENT_NAME, ""),
        "sip_number": attributes.get(LiveKitAttribute.SIP_PHONE_NUMBER, ""),
        "state": state,
        "transfer": attributes.get(AttributeKey.TRANSFER, ""),
        "joined_at": _iso(datetime.fromtimestamp(info.joined_at, UTC)) if info.joined_at else "",
    }


def decision_json(record: DecisionRecord) -> dict[str, Any]:
    """A stored decision: which rule, which agents, and the engine's own explanation."""
    return {
        "event_id": record.event_id,
        "rule": record.rule_id or "default",
        "agents": [dispatch.agent_name for dispatch in record.dispatches],
        "decided_at": _iso(record.decided_at),
        "explanation": str(record.explanation.get("text", "")),
    }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def _describe(person: dict[str, Any]) -> str:
    extra = person["agent_name"] or person["sip_number"]
    return f"{person['kind']} {person['identity']}" + (f" ({extra})" if extra else "")


@dataclass
class _Room:
    """What the console saw of one room while watching it."""

    name: str
    sid: str
    created_at: datetime
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each participant's attributes now: the waterfall's running bars show them."""
    dispatches: dict[str, dict[str, str]] = field(default_factory=dict)
    observed: list[dict[str, str]] = field(default_factory=list)
    closed_at: datetime | None = None

    def note(self, kind: str, summary: str, at: datetime | None = None) -> None:
        when = at or datetime.now(UTC)
        self.observed.append({"at": _iso(when), "kind": kind, "summary": summary})


class LiveView:
    """One poller per app, running only while someone watches; ``subscribe()`` yields
    snapshots (JSON text), the current one first, then each one that differs."""

    def __init__(
        self,
        client: Callable[[], api.LiveKitAPI],
        store: Callable[[], Awaitable[Store | None]],
        interval: float = 1.0,
    ) -> None:
        self._client = client
        self._store = store
        self._interval = interval
        self._rooms: dict[str, _Room] = {}
        self._snapshot = ""
        self._changed = asyncio.Condition()
        self._watchers = 0
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self) -> AsyncIterator[str]:
        """Snapshots for one subscriber, until it stops iterating."""
        self._watchers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="switchboard-console-live")
        try:
            last = ""
            while True:
                async with self._changed:
                    while self._snapshot == last:
                        await self._changed.wait()
                    last = self._snapshot
                yield last
        finally:
            self._watchers -= 1

    async def snapshot(self) -> str:
        """A fresh snapshot, polled now (``GET /console/api/state``)."""
        await self._poll()
        return self._snapshot

    async def _run(self) -> None:
        while self._watchers > 0:
            try:
                await self._poll()
            except Exception as exc:  # the live view must outlive a server restart
                logger.warning("console poll failed", extra={"error": str(exc)})
            await asyncio.sleep(self._interval)

    async def _poll(self) -> None:
        async with self._client() as client:
            await self._poll_rooms(client)

    async def _poll_rooms(self, client: api.LiveKitAPI) -> None:
        rooms = (await client.room.list_rooms(api.ListRoomsRequest())).rooms
        now = datetime.now(UTC)
        seen = set()
        for info in rooms:
            seen.add(info.name)
            room = self._rooms.get(info.name)
            if room is None or room.sid != info.sid:
                created = (
                    datetime.fromtimestamp(info.creation_time, UTC) if info.creation_time else now
                )
                room = _Room(info.name, info.sid, created)
                room.note("created", f"room {info.name} created ({info.sid})", created)
                self._rooms[info.name] = room
            await self._poll_room(client, room)
        for room in self._rooms.values():
            if room.name not in seen and room.closed_at is None:
                for person in room.participants.values():
                    room.note("leave", f"{_describe(person)} left (room closed)")
                room.participants.clear()
                room.attributes.clear()
                room.closed_at = now
                room.note("close", f"room {room.name} closed")
        for name in [
            n
            for n, r in self._rooms.items()
            if r.closed_at and now - r.closed_at > KEEP_CLOSED_ROOMS
        ]:
            del self._rooms[name]
        await self._publish(await self._render())

    async def _poll_room(self, client: api.LiveKitAPI, room: _Room) -> None:
        with contextlib.suppress(api.TwirpError):
            listed = await client.room.list_participants(
                api.ListParticipantsRequest(room=room.name)
            )
            current = {p.identity: participant_json(p) for p in listed.participants}
            for identity, person in current.items():
                before = room.participants.get(identity)
                if before is None:
                    room.note("join", f"{_describe(person)} joined")
                else:
                    if person["state"] != before["state"] and person["state"]:
                        room.note("state", f"{_describe(person)}: {person['state']}")
                    if person["transfer"] != before["transfer"] and person["transfer"]:
                        room.note("transfer", f"{_describe(person)}: {person['transfer']}")
            for identity, person in room.participants.items():
                if identity not in current:
                    room.note("leave", f"{_describe(person)} left")
            room.participants = current
            room.attributes = {p.identity: dict(p.attributes) for p in listed.participants}
        with contextlib.suppress(api.TwirpError):
            for dispatch in await client.agent_dispatch.list_dispatch(room_name=room.name):
                if dispatch.id not in room.dispatches:
                    agent = dispatch.agent_name or "(unnamed)"
                    room.note("dispatch", f"agent {agent} dispatched ({dispatch.id})")
                room.dispatches[dispatch.id] = {
                    "id": dispatch.id,
                    "agent_name": dispatch.agent_name,
                    "metadata": dispatch.metadata,
                }

    async def _render(self) -> str:
        store = await self._store()
        queue: dict[str, dict[str, Any]] = {}
        if store is not None:
            try:
                queue = {c.room_name: c.to_json() for c in await store.active_callers()}
            except Exception as exc:  # show the live part even when the store is down
                logger.warning("console store read failed", extra={"error": str(exc)})
        rooms = []
        for room in sorted(self._rooms.values(), key=lambda r: r.created_at, reverse=True):
            decisions: list[DecisionRecord] = []
            stored: list[TimelineEntry] = []
            trace: dict[str, Any] | None = None
            if store is not None:
                try:
                    decisions = await store.decisions_for_room(room.name)
                    stored = await store.timeline(room.name)
                    trace = (await load_trace(store, room.name, room.attributes)).to_json()
                except Exception as exc:  # show the live part even when the store is down
                    logger.warning("console store read failed", extra={"error": str(exc)})
            timeline = room.observed + [
                {"at": _iso(e.at), "kind": e.kind.value, "summary": e.summary} for e in stored
            ]
            timeline.sort(key=lambda entry: entry["at"])
            rooms.append(
                {
                    "name": room.name,
                    "sid": room.sid,
                    "created_at": _iso(room.created_at),
                    "open": room.closed_at is None,
                    "participants": sorted(room.participants.values(), key=lambda p: p["identity"]),
                    "dispatches": list(room.dispatches.values()),
                    "decisions": [decision_json(d) for d in decisions],
                    "timeline": timeline,
                    "trace": trace,
                    "queue": queue.get(room.name),
                }
            )
        return json.dumps({"rooms": rooms}, separators=(",", ":"))

    async def trace(self, room: str) -> dict[str, Any] | None:
        """The waterfall of the call in ``room`` (None without a store), with live states."""
        store = await self._store()
        if store is None:
            return None
        seen = self._rooms.get(room)
        live = seen.attributes if seen is not None else {}
        return (await load_trace(store, room, live)).to_json()

    async def _publish(self, snapshot: str) -> None:
        async with self._changed:
            if snapshot != self._snapshot:
                self._snapshot = snapshot
                self._changed.notify_all()
