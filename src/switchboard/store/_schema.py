"""The tables as the code expects them; ``migrations/`` creates them (a test keeps both equal)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from switchboard.store._types import JSONDocument, UTCDateTime

VERSION_TABLE: Final = "switchboard_schema_version"

JOB_STATUSES: Final = ("pending", "claimed", "succeeded", "dead")
ATTEMPT_RESULTS: Final = ("succeeded", "retry", "dead", "lease_expired")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Identifier = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit surrogate key; SQLite only auto-increments a column declared INTEGER."""

events = Table(
    "events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("body_json", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index(None, "room_name", "received_at"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Identifier, primary_key=True, autoincrement=True),
    Column("event_id", String(200), ForeignKey("events.event_id"), nullable=False, unique=True),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("rule_id", String(64)),
    Column("dispatches", JSONDocument, nullable=False),
    Column("explanation", JSONDocument, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Index(None, "room_name", "decided_at"),
)

dispatch_jobs = Table(
    "dispatch_jobs",
    metadata,
    Column("job_id", Identifier, primary_key=True, autoincrement=True),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("agent_name", String(128), nullable=False),
    Column("agent_metadata", Text, nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UTCDateTime),
    Column("last_error", Text),
    Column("dead_reason", Text),
    Column("outcome", String(64)),
    Column("server_answer", JSONDocument),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("room_name", "room_sid", "agent_name"),
    CheckConstraint("status IN ('pending', 'claimed', 'succeeded', 'dead')", name="status"),
    Index(None, "status", "next_attempt_at"),
)

dispatch_attempts = Table(
    "dispatch_attempts",
    metadata,
    Column("attempt_id", Identifier, primary_key=True, autoincrement=True),
    Column("job_id", Identifier, ForeignKey("dispatch_jobs.job_id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("room_name", String(256), nullable=False),
    Column("worker_id", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("result", String(16)),
    Column("error", Text),
    Column("retry_at", UTCDateTime),
    Column("server_answer", JSONDocument),
    UniqueConstraint("job_id", "attempt"),
    CheckConstraint(
        "result IS NULL OR result IN ('succeeded', 'retry', 'dead', 'lease_expired')",
        name="result",
    ),
    Index(None, "room_name", "started_at"),
)

room_facts = Table(
    "room_facts",
    metadata,
    Column("fact_id", Identifier, primary_key=True, autoincrement=True),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("detail", JSONDocument, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "room_name", "at"),
)

CALLER_STATUSES: Final = ("serving", "waiting", "done", "overflowed", "abandoned")

caller_queue = Table(
    "caller_queue",
    metadata,
    Column("caller_id", Identifier, primary_key=True, autoincrement=True),
    Column("limit_key", String(300), nullable=False),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("calls", Integer, nullable=False),
    Column("dispatches", JSONDocument, nullable=False),
    Column("policy", JSONDocument, nullable=False),
    Column("enqueued_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("served_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("room_name", "room_sid", "limit_key"),
    CheckConstraint(
        "status IN ('serving', 'waiting', 'done', 'overflowed', 'abandoned')", name="status"
    ),
    Index(None, "limit_key", "status", "caller_id"),
    Index(None, "status", "deadline_at"),
)

recoveries = Table(
    "recoveries",
    metadata,
    Column("recovery_id", Identifier, primary_key=True, autoincrement=True),
    Column("room_name", String(256), nullable=False),
    Column("room_sid", String(64), nullable=False),
    Column("recovery", Integer, nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", JSONDocument, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("room_name", "room_sid", "recovery"),
)
"""The watchdog's recoveries of stranded callers: one row per room session and recovery number."""
