"""The caller queue: admit a caller under a limit, free its slot, promote the next in line.

Every change to a key's callers runs in one transaction holding that key's lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: ``BEGIN IMMEDIATE``, one writer at a time), so the
counts a decision is made on cannot change under it: of replicas freeing slots at once, each
waiting caller is promoted by exactly one, in arrival order, and its dispatch job is created in
the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.rules.admission import Admission, AdmissionResult
from switchboard.rules.admission_models import OverflowKind, QueuePolicy
from switchboard.rules.decision import DecisionKind
from switchboard.rules.hold import HoldNotice
from switchboard.store import _facts, _queue
from switchboard.store._schema import caller_queue
from switchboard.store._sql import insert_unless_exists
from switchboard.store.models import CallerStatus, Dispatch, QueuedCaller

_callers = caller_queue.c
_ACTIVE = (CallerStatus.SERVING, CallerStatus.WAITING)
_FACT_OF: Mapping[DecisionKind, str] = {
    DecisionKind.DISPATCH: "admitted",
    DecisionKind.QUEUED: "queued",
    DecisionKind.OVERFLOW: "overflow",
}


@dataclass(frozen=True, slots=True)
class Admitted:
    """What admission did with a caller; ``new`` is False when the room was already admitted."""

    result: AdmissionResult
    caller: QueuedCaller
    new: bool
    jobs: int


async def admit(
    connection: AsyncConnection,
    *,
    admission: Admission,
    room_name: str,
    room_sid: str,
    event_id: str,
    dispatches: Sequence[Dispatch],
    now: datetime,
) -> Admitted:
    """Serve, queue or overflow a caller under ``admission``, enqueuing the jobs that go with it
    (the agents, the hold agent, or the overflow action); idempotent per room session and key."""
    await _lock(connection, admission.key)
    existing = await _find(connection, room_name, room_sid, admission.key)
    if existing is not None:
        kind = {
            CallerStatus.SERVING: DecisionKind.DISPATCH,
            CallerStatus.WAITING: DecisionKind.QUEUED,
        }.get(existing.status, DecisionKind.OVERFLOW)
        serving, waiting = await _counts(connection, admission.key)
        result = AdmissionResult(kind, serving, waiting, existing.position)
        return Admitted(result, existing, False, 0)
    serving, waiting = await _counts(connection, admission.key)
    result = admission.admit(serving, waiting)
    queue = admission.queue
    status = {
        DecisionKind.DISPATCH: CallerStatus.SERVING,
        DecisionKind.QUEUED: CallerStatus.WAITING,
    }.get(result.kind, CallerStatus.OVERFLOWED)
    values = {
        "limit_key": admission.key,
        "room_name": room_name,
        "room_sid": room_sid,
        "event_id": event_id,
        "status": status,
        "calls": admission.calls,
        "dispatches": [list(d) for d in dispatches],
        "policy": queue.model_dump(mode="json"),
        "enqueued_at": now,
        "deadline_at": now + timedelta(seconds=queue.max_wait_seconds),
        "served_at": now if status is CallerStatus.SERVING else None,
        "finished_at": now if status is CallerStatus.OVERFLOWED else None,
    }
    caller_id = await insert_unless_exists(
        connection, caller_queue, values, ("room_name", "room_sid", "limit_key")
    )
    assert caller_id is not None  # under the key's lock the room's row cannot appear meanwhile
    caller = await _get(connection, int(caller_id))
    caller = _with_position(caller, result.position)
    if result.kind is DecisionKind.DISPATCH:
        jobs = await _enqueue(connection, caller, list(dispatches), event_id, now)
    elif result.kind is DecisionKind.QUEUED:
        notice = hold_notice(caller, result.position)
        hold = [Dispatch(queue.hold_agent, notice.to_json())]
        jobs = await _enqueue(connection, caller, hold, event_id, now)
    else:
        jobs = await _overflow(connection, caller, event_id, now)
    detail = {"key": admission.key, **result.to_json()}
    await _facts.record_fact(
        connection,
        room_name=room_name,
        room_sid=room_sid,
        kind=_FACT_OF[result.kind],
        detail=detail,
        at=now,
    )
    return Admitted(result, caller, True, jobs)


async def release(
    connection: AsyncConnection,
    *,
    room_name: str,
    room_sid: str,
    agent_name: str | None,
    now: datetime,
) -> list[QueuedCaller]:
    """Free the room's slot (``agent_name``: only if that agent served it; None: the room is
    gone, so a waiting caller there abandons too), then promote the first in line of each key
    while it has free slots. Returns the promoted callers, each with its agents' jobs queued."""
    rows = await connection.execute(
        select(caller_queue).where(
            _callers.room_name == room_name,
            _callers.room_sid == room_sid,
            _callers.status.in_(_ACTIVE),
        )
    )
    mine = [_caller(row) for row in rows.mappings()]
    promoted: list[QueuedCaller] = []
    for caller in mine:
        if agent_name is not None:
            served_by = {d.agent_name for d in caller.dispatches}
            if caller.status is not CallerStatus.SERVING or agent_name not in served_by:
                continue
        await _lock(connection, caller.limit_key)
        status = (
            CallerStatus.DONE if caller.status is CallerStatus.SERVING else (CallerStatus.ABANDONED)
        )
        changed = await connection.execute(
            update(caller_queue)
            .where(_callers.caller_id == caller.caller_id, _callers.status == caller.status)
            .values(status=status, finished_at=now)
        )
        if changed.rowcount:
            await _facts.record_fact(
                connection,
                room_name=room_name,
                room_sid=room_sid,
                kind="slot_freed" if status is CallerStatus.DONE else "abandoned",
                detail={"key": caller.limit_key, "agent": agent_name or ""},
                at=now,
            )
        promoted += await promote(connection, caller.limit_key, caller.calls, now, room_name)
    return promoted


async def promote(
    connection: AsyncConnection, key: str, calls: int, now: datetime, freed_room: str = ""
) -> list[QueuedCaller]:
    """Move the first waiting callers of ``key`` to serving while fewer than ``calls`` are
    served, and queue their agents' jobs; the caller must hold the key's lock. ``freed_room``
    (whose slot freed up) goes into each ``promoted`` fact."""
    serving, _waiting = await _counts(connection, key)
    free = calls - serving
    if free <= 0:
        return []
    rows = await connection.execute(
        select(caller_queue)
        .where(_callers.limit_key == key, _callers.status == CallerStatus.WAITING)
        .order_by(_callers.caller_id)
        .limit(free)
    )
    promoted = []
    for row in rows.mappings():
        caller = _caller(row)
        await connection.execute(
            update(caller_queue)
            .where(_callers.caller_id == caller.caller_id)
            .values(status=CallerStatus.SERVING, served_at=now)
        )
        event_id = str(row["event_id"])
        await _enqueue(connection, caller, list(caller.dispatches), event_id, now)
        await _facts.record_fact(
            connection,
            room_name=caller.room_name,
            room_sid=caller.room_sid,
            kind="promoted",
            detail={
                "key": key,
                "waited_seconds": (now - caller.enqueued_at).total_seconds(),
                "slot_of": freed_room,
            },
            at=now,
        )
        promoted.append(caller)
    return promoted


async def expire(connection: AsyncConnection, now: datetime) -> list[QueuedCaller]:
    """Overflow every waiting caller past its maximum wait (running its overflow action)."""
    rows = await connection.execute(
        select(caller_queue)
        .where(_callers.status == CallerStatus.WAITING, _callers.deadline_at <= now)
        .order_by(_callers.caller_id)
    )
    expired = []
    for caller in [_caller(row) for row in rows.mappings()]:
        await _lock(connection, caller.limit_key)
        changed = await connection.execute(
            update(caller_queue)
            .where(
                _callers.caller_id == caller.caller_id,
                _callers.status == CallerStatus.WAITING,
            )
            .values(status=CallerStatus.OVERFLOWED, finished_at=now)
        )
        if not changed.rowcount:
            continue
        event_id = await _event_of(connection, caller.caller_id)
        await _overflow(connection, caller, event_id, now)
        await _facts.record_fact(
            connection,
            room_name=caller.room_name,
            room_sid=caller.room_sid,
            kind="overflow",
            detail={"key": caller.limit_key, "reason": "waited too long"},
            at=now,
        )
        expired.append(caller)
    return expired


async def active(connection: AsyncConnection) -> list[QueuedCaller]:
    """Every caller served or waiting, waiting ones with their place in line, by key."""
    rows = await connection.execute(
        select(caller_queue)
        .where(_callers.status.in_(_ACTIVE))
        .order_by(_callers.limit_key, _callers.caller_id)
    )
    callers = []
    places: dict[str, int] = {}
    for caller in (_caller(row) for row in rows.mappings()):
        if caller.status is CallerStatus.WAITING:
            places[caller.limit_key] = places.get(caller.limit_key, 0) + 1
            caller = _with_position(caller, places[caller.limit_key])
        callers.append(caller)
    return callers


async def history(connection: AsyncConnection, limit: int) -> list[QueuedCaller]:
    """The ``limit`` most recent callers in any status, oldest first."""
    rows = await connection.execute(
        select(caller_queue).order_by(_callers.caller_id.desc()).limit(limit)
    )
    return sorted((_caller(row) for row in rows.mappings()), key=lambda c: c.caller_id)


async def of_rooms(connection: AsyncConnection, room_names: Iterable[str]) -> list[QueuedCaller]:
    """Every caller record of these rooms, oldest first."""
    rows = await connection.execute(
        select(caller_queue)
        .where(_callers.room_name.in_(list(room_names)))
        .order_by(_callers.caller_id)
    )
    return [_caller(row) for row in rows.mappings()]


def hold_notice(caller: QueuedCaller, position: int, hang_up_message: str = "") -> HoldNotice:
    """What the hold agent is told about ``caller``."""
    policy = QueuePolicy.model_validate(caller.policy)
    agents = tuple(d.agent_name for d in caller.dispatches)
    return HoldNotice.for_caller(policy, agents, position, hang_up_message)


async def _overflow(
    connection: AsyncConnection, caller: QueuedCaller, event_id: str, now: datetime
) -> int:
    """Queue the overflow action: its agent, or the hold agent with a goodbye to say (a hold
    agent already in the room is told by the service's queue loop)."""
    policy = QueuePolicy.model_validate(caller.policy)
    overflow = policy.overflow
    if overflow.kind is OverflowKind.AGENT:
        assert overflow.agent is not None
        return await _enqueue(connection, caller, [Dispatch(overflow.agent, "")], event_id, now)
    notice = hold_notice(caller, 0, overflow.message or "")
    hold = [Dispatch(policy.hold_agent, notice.to_json())]
    return await _enqueue(connection, caller, hold, event_id, now)


async def _enqueue(
    connection: AsyncConnection,
    caller: QueuedCaller,
    dispatches: Sequence[Dispatch],
    event_id: str,
    now: datetime,
) -> int:
    created = 0
    for dispatch in dispatches:
        created += await _queue.enqueue(
            connection,
            room_name=caller.room_name,
            room_sid=caller.room_sid,
            agent_name=dispatch.agent_name,
            metadata=dispatch.metadata,
            event_id=event_id,
            at=now,
        )
    return created


async def _lock(connection: AsyncConnection, key: str) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"caller_queue:{key}"}
        )


async def _counts(connection: AsyncConnection, key: str) -> tuple[int, int]:
    rows = await connection.execute(
        select(_callers.status, func.count())
        .where(_callers.limit_key == key, _callers.status.in_(_ACTIVE))
        .group_by(_callers.status)
    )
    counts = {str(status): int(count) for status, count in rows.all()}
    return counts.get(CallerStatus.SERVING, 0), counts.get(CallerStatus.WAITING, 0)


async def _find(
    connection: AsyncConnection, room_name: str, room_sid: str, key: str
) -> QueuedCaller | None:
    row = (
        (
            await connection.execute(
                select(caller_queue).where(
                    _callers.room_name == room_name,
                    _callers.room_sid == room_sid,
                    _callers.limit_key == key,
                )
            )
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else _caller(row)


async def _get(connection: AsyncConnection, caller_id: int) -> QueuedCaller:
    row = (
        (await connection.execute(select(caller_queue).where(_callers.caller_id == caller_id)))
        .mappings()
        .one()
    )
    return _caller(row)


async def _event_of(connection: AsyncConnection, caller_id: int) -> str:
    found = await connection.execute(
        select(_callers.event_id).where(_callers.caller_id == caller_id)
    )
    return str(found.scalar_one())


def _caller(row: RowMapping) -> QueuedCaller:
    return QueuedCaller(
        caller_id=int(row["caller_id"]),
        limit_key=str(row["limit_key"]),
        room_name=str(row["room_name"]),
        room_sid=str(row["room_sid"]),
        status=CallerStatus(row["status"]),
        dispatches=tuple(Dispatch(str(a), str(m)) for a, m in row["dispatches"]),
        policy=dict(row["policy"]),
        calls=int(row["calls"]),
        enqueued_at=row["enqueued_at"],
        served_at=row["served_at"],
        finished_at=row["finished_at"],
    )


def _with_position(caller: QueuedCaller, position: int) -> QueuedCaller:
    return replace(caller, position=position)
