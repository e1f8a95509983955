"""Initial schema: events, decisions, dispatch jobs and attempts, room facts.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the five tables and their indexes."""
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
    )
    op.create_index("ix_events_room_name_received_at", "events", ["room_name", "received_at"])

    op.create_table(
        "decisions",
        sa.Column("decision_id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=True),
        sa.Column("dispatches", _JSON, nullable=False),
        sa.Column("explanation", _JSON, nullable=False),
        sa.Column("decided_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.event_id"], name="fk_decisions_event_id_events"
        ),
        sa.UniqueConstraint("event_id", name="uq_decisions_event_id"),
    )
    op.create_index("ix_decisions_room_name_decided_at", "decisions", ["room_name", "decided_at"])

    op.create_table(
        "dispatch_jobs",
        sa.Column("job_id", _ID, autoincrement=True, nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("agent_name", sa.String(128), nullable=False),
        sa.Column("agent_metadata", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", _AT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("server_answer", _JSON, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_dispatch_jobs"),
        sa.UniqueConstraint(
            "room_name",
            "room_sid",
            "agent_name",
            name="uq_dispatch_jobs_room_name_room_sid_agent_name",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'claimed', 'succeeded', 'dead')", name="ck_dispatch_jobs_status"
        ),
    )
    op.create_index(
        "ix_dispatch_jobs_status_next_attempt_at", "dispatch_jobs", ["status", "next_attempt_at"]
    )

    op.create_table(
        "dispatch_attempts",
        sa.Column("attempt_id", _ID, autoincrement=True, nullable=False),
        sa.Column("job_id", _ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("retry_at", _AT, nullable=True),
        sa.Column("server_answer", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_dispatch_attempts"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["dispatch_jobs.job_id"], name="fk_dispatch_attempts_job_id_dispatch_jobs"
        ),
        sa.UniqueConstraint("job_id", "attempt", name="uq_dispatch_attempts_job_id_attempt"),
        sa.CheckConstraint(
            "result IS NULL OR result IN ('succeeded', 'retry', 'dead', 'lease_expired')",
            name="ck_dispatch_attempts_result",
        ),
    )
    op.create_index(
        "ix_dispatch_attempts_room_name_started_at",
        "dispatch_attempts",
        ["room_name", "started_at"],
    )

    op.create_table(
        "room_facts",
        sa.Column("fact_id", _ID, autoincrement=True, nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("fact_id", name="pk_room_facts"),
    )
    op.create_index("ix_room_facts_room_name_at", "room_facts", ["room_name", "at"])


def downgrade() -> None:
    """Drop everything the upgrade created."""
    for table in ("room_facts", "dispatch_attempts", "dispatch_jobs", "decisions", "events"):
        op.drop_table(table)
