"""Caller queue: callers under a rule's limit, served or waiting in arrival order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``caller_queue`` and its indexes."""
    op.create_table(
        "caller_queue",
        sa.Column("caller_id", _ID, autoincrement=True, nullable=False),
        sa.Column("limit_key", sa.String(300), nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("dispatches", _JSON, nullable=False),
        sa.Column("policy", _JSON, nullable=False),
        sa.Column("enqueued_at", _AT, nullable=False),
        sa.Column("deadline_at", _AT, nullable=False),
        sa.Column("served_at", _AT, nullable=True),
        sa.Column("finished_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("caller_id", name="pk_caller_queue"),
        sa.UniqueConstraint(
            "room_name",
            "room_sid",
            "limit_key",
            name="uq_caller_queue_room_name_room_sid_limit_key",
        ),
        sa.CheckConstraint(
            "status IN ('serving', 'waiting', 'done', 'overflowed', 'abandoned')",
            name="ck_caller_queue_status",
        ),
    )
    op.create_index(
        "ix_caller_queue_limit_key_status_caller_id",
        "caller_queue",
        ["limit_key", "status", "caller_id"],
    )
    op.create_index("ix_caller_queue_status_deadline_at", "caller_queue", ["status", "deadline_at"])


def downgrade() -> None:
    """Drop ``caller_queue``."""
    op.drop_table("caller_queue")
