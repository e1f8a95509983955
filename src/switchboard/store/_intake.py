"""Many webhooks in one transaction: events, their decisions and jobs, and room facts.

A statement per table for the whole batch, not per webhook: under a burst the intake's cost is
the number of statements and commits, and SQLite has one writer (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.store._schema import decisions, dispatch_jobs, events, room_facts
from switchboard.store._sql import insert_many_unless_exist
from switchboard.store.models import Dispatch, JobStatus, NewWebhook


async def record_webhooks(
    connection: AsyncConnection, webhooks: Sequence[NewWebhook], at: datetime
) -> list[bool]:
    """Record each webhook whose event id is new (the first of a batch's repeats); per webhook,
    True if it was recorded, False if its id already was."""
    inserted = await insert_many_unless_exist(
        connection, events, [_event_row(w, at) for w in webhooks], ["event_id"], "event_id"
    )
    recorded: list[bool] = []
    for webhook in webhooks:
        recorded.append(webhook.event_id in inserted)
        inserted.discard(webhook.event_id)
    new = [w for w, is_new in zip(webhooks, recorded, strict=True) if is_new]
    decided = [w for w in new if w.decision is not None]
    if decided:
        await connection.execute(insert(decisions), [_decision_row(w, at) for w in decided])
        jobs = [row for w in decided for row in _job_rows(w, at)]
        if jobs:
            unique = ["room_name", "room_sid", "agent_name"]
            await insert_many_unless_exist(connection, dispatch_jobs, jobs, unique)
    facts = [_fact_row(w, at) for w in new if w.fact is not None]
    if facts:
        await connection.execute(insert(room_facts), facts)
    return recorded


def _event_row(webhook: NewWebhook, at: datetime) -> dict[str, Any]:
    return {
        "event_id": webhook.event_id,
        "event_type": webhook.event_type,
        "room_name": webhook.room_name,
        "room_sid": webhook.room_sid,
        "body_json": webhook.body_json,
        "received_at": at,
    }


def _decision_row(webhook: NewWebhook, at: datetime) -> dict[str, Any]:
    assert webhook.decision is not None
    return {
        "event_id": webhook.event_id,
        "room_name": webhook.room_name,
        "room_sid": webhook.room_sid,
        "rule_id": webhook.decision.rule_id,
        "dispatches": [Dispatch(*d)._asdict() for d in webhook.decision.dispatches],
        "explanation": dict(webhook.decision.explanation),
        "decided_at": at,
    }


def _job_rows(webhook: NewWebhook, at: datetime) -> list[dict[str, Any]]:
    assert webhook.decision is not None
    return [
        {
            "room_name": webhook.room_name,
            "room_sid": webhook.room_sid,
            "agent_name": agent_name,
            "agent_metadata": metadata,
            "event_id": webhook.event_id,
            "status": JobStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for agent_name, metadata in webhook.decision.dispatches
    ]


def _fact_row(webhook: NewWebhook, at: datetime) -> dict[str, Any]:
    assert webhook.fact is not None
    return {
        "room_name": webhook.room_name,
        "room_sid": webhook.room_sid,
        "kind": webhook.fact.kind,
        "detail": dict(webhook.fact.detail),
        "at": at,
    }
