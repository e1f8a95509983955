"""Many webhooks in one transaction: events, their decisions and jobs, and room facts.

A statement per table for the whole batch, not per webhook: under a burst the intake's cost is
the number of statements and commits, and SQLite has one writer (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._events import decision_row, event_row
from switchboard.store._facts import fact_row
from switchboard.store._queue import JOB_KEY, job_row
from switchboard.store._schema import decisions, dispatch_jobs, events, room_facts
from switchboard.store._sql import insert_many_unless_exist
from switchboard.store.models import NewWebhook, StoredEvent


async def record_webhooks(
    connection: AsyncConnection, webhooks: Sequence[NewWebhook], at: datetime
) -> list[bool]:
    """Record each webhook whose event id is new (the first of a batch's repeats); per webhook,
    True if it was recorded, False if its id already was."""
    stored = [
        StoredEvent(w.event_id, w.event_type, w.room_name, w.room_sid, w.body_json, at)
        for w in webhooks
    ]
    inserted = await insert_many_unless_exist(
        connection, events, [event_row(e) for e in stored], ["event_id"], "event_id"
    )
    recorded: list[bool] = []
    for webhook in webhooks:
        recorded.append(webhook.event_id in inserted)
        inserted.discard(webhook.event_id)
    new = [(w, e) for w, e, is_new in zip(webhooks, stored, recorded, strict=True) if is_new]
    decision_rows, job_rows, fact_rows = [], [], []
    for webhook, event in new:
        if (decision := webhook.decision) is not None:
            decision_rows.append(
                decision_row(event, decision.rule_id, decision.dispatches, decision.explanation, at)
            )
            job_rows += [
                job_row(event.room_name, event.room_sid, agent, metadata, event.event_id, at)
                for agent, metadata in decision.dispatches
            ]
        if (fact := webhook.fact) is not None:
            fact_rows.append(fact_row(event.room_name, event.room_sid, fact.kind, fact.detail, at))
    if decision_rows:
        await connection.execute(insert(decisions), decision_rows)
    await insert_many_unless_exist(connection, dispatch_jobs, job_rows, JOB_KEY)
    if fact_rows:
        await connection.execute(insert(room_facts), fact_rows)
    return recorded
