"""The watchdog's recoveries of stranded callers.

Revision ID: 0003
Revises: 0002 (the caller queue)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the recoveries table (one row per room session and recovery number)."""
    op.create_table(
        "recoveries",
        sa.Column("recovery_id", _ID, autoincrement=True, nullable=False),
        sa.Column("room_name", sa.String(256), nullable=False),
        sa.Column("room_sid", sa.String(64), nullable=False),
        sa.Column("recovery", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("recovery_id", name="pk_recoveries"),
        sa.UniqueConstraint(
            "room_name", "room_sid", "recovery", name="uq_recoveries_room_name_room_sid_recovery"
        ),
    )


def downgrade() -> None:
    """Drop the recoveries table."""
    op.drop_table("recoveries")
