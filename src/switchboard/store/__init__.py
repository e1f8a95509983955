"""The durable store: idempotent events, decisions, the dispatch queue and the audit log.

SQLite (one replica, development) or PostgreSQL (several replicas), see docs/store.md::

    store = await Store.open("postgresql+asyncpg://switchboard:***@db/switchboard")
    if await store.record_event(event_id, event_type, room_name, room_sid, body_json):
        await store.record_decision(event_id, room_name, rule_id, dispatches, explanation)
    for job in await store.claim_due_jobs("worker-1", limit=10, lease_seconds=30):
        ...
"""

from switchboard.store._url import DEFAULT_URL
from switchboard.store.backoff import Backoff
from switchboard.store.errors import (
    MigrationError,
    StoreError,
    StoreUnavailableError,
    StoreURLError,
    UnknownEventError,
)
from switchboard.store.models import (
    Attempt,
    AttemptResult,
    CallerStatus,
    Completion,
    DecisionRecord,
    Dispatch,
    Job,
    JobStatus,
    NewDecision,
    NewFact,
    NewWebhook,
    QueuedCaller,
    RoomFact,
    StoredEvent,
    TimelineEntry,
    TimelineKind,
)
from switchboard.store.store import DEFAULT_BACKOFF, Store

__all__ = [
    "DEFAULT_BACKOFF",
    "DEFAULT_URL",
    "Attempt",
    "AttemptResult",
    "Backoff",
    "CallerStatus",
    "Completion",
    "DecisionRecord",
    "Dispatch",
    "Job",
    "JobStatus",
    "MigrationError",
    "NewDecision",
    "NewFact",
    "NewWebhook",
    "QueuedCaller",
    "RoomFact",
    "Store",
    "StoreError",
    "StoreURLError",
    "StoreUnavailableError",
    "StoredEvent",
    "TimelineEntry",
    "TimelineKind",
    "UnknownEventError",
]
